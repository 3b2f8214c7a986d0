"""Offline field collection: a loan officer downloads her groups' collection sheet, records
repayments and savings deposits offline with device-made UUIDs, and syncs them in a batch
(one transaction and one result per item); end-of-day cash reconciliation. Issue #8, part 5."""
