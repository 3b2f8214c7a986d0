"""Writes of the health module (UTM): one module per part (claims, batches, reinsurance,
prevention; mutuals, enrolment, contributions, providers)."""
