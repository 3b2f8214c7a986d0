"""The USSD menu as a pure state machine: every path with a fake provider, and (hypothesis)
every reply starts with CON/END and fits 182 GSM-7 septets whatever the text, the data and the
translations (French, Bambara with ɛ ɔ ɲ ŋ, and translations far longer than the English)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from jigi.channels.sms_length import GSM7_BASIC, GSM7_EXTENSION
from jigi.channels.ussd import menu
from jigi.channels.ussd.menu import (
    Balance,
    Cover,
    Instalment,
    Person,
    PinCheck,
    ReceiptLine,
    Session,
    fit,
    francs,
    gsm_fold,
    respond,
    septets,
)

AWA = Person(1, "Awa")
FANTA = Person(2, "Fanta Kadiatou")


@dataclass
class Fake:
    pin: str = "2580"
    state: str = menu.PIN_OK
    tries: int = 0
    words: dict = field(default_factory=dict)  # (language, msgid) -> text
    stretch: int = 1  # every translation this many times longer
    data_balances: list = field(default_factory=lambda: [Balance("Dépôt à vue", 12500)])
    data_instalments: list = field(default_factory=list)
    data_cover: Cover = field(default_factory=lambda: Cover("covered"))
    data_receipts: list = field(default_factory=list)
    callback: str = "new"
    calls: list = field(default_factory=list)

    def translate(self, language, msgid):
        text = self.words.get((language, msgid), f"[{language}]{msgid}")
        return " ".join([text] * self.stretch)

    def pin_state(self, person_id):
        self.calls.append(("pin_state", person_id))
        return self.state

    def verify_pin(self, person_id, pin):
        self.calls.append(("verify", person_id, pin))
        if self.state == menu.PIN_LOCKED:
            return PinCheck(menu.PIN_LOCKED)
        if pin == self.pin:
            return PinCheck(menu.PIN_OK)
        self.tries += 1
        return PinCheck(menu.PIN_LOCKED) if self.tries >= 3 else PinCheck(menu.PIN_WRONG,
                                                                          3 - self.tries)

    def balances(self, person_id):
        self.calls.append(("balances", person_id))
        return self.data_balances

    def instalments(self, person_id):
        self.calls.append(("instalments", person_id))
        return self.data_instalments

    def cover(self, person_id):
        self.calls.append(("cover", person_id))
        return self.data_cover

    def receipts(self, person_id):
        self.calls.append(("receipts", person_id))
        return self.data_receipts

    def request_callback(self, person_id):
        self.calls.append(("callback", person_id))
        return self.callback

    def set_language(self, person_id, language):
        self.calls.append(("language", person_id, language))


def one(**kw) -> Session:
    return Session(persons=(AWA,), **{"start_language": "fr", **kw})


def in_(session_kw=None):
    return one(authenticated=True, person_id=AWA.id, **(session_kw or {}))


# --- the flow ------------------------------------------------------------------------------------

def test_unknown_phone_ends_with_go_to_your_caisse():
    reply = respond("", Session(persons=()), Fake())
    assert reply.text.startswith("END ")
    assert "Go to your caisse" in reply.text


def test_language_first_when_none_chosen():
    fake = Fake()
    reply = respond("", one(start_language=""), fake)
    assert reply.text == "CON 1 Francais\n2 Bamanankan"
    assert fake.calls == []
    reply = respond("7", one(start_language=""), fake)  # a wrong choice asks again
    assert reply.text == "CON ?\n1 Francais\n2 Bamanankan"
    reply = respond("7*2", one(start_language=""), fake)
    assert reply.text == "CON [bm]Your PIN?"
    assert reply.language == "bm"


def test_language_chosen_at_the_start_is_saved_with_the_right_pin():
    fake = Fake()
    reply = respond("2*2580", one(start_language=""), fake)
    assert reply.authenticated
    assert reply.person_id == AWA.id
    assert ("language", AWA.id, "bm") in fake.calls
    assert reply.text.startswith("CON [bm]Language saved.\n[bm]1 Savings")


def test_pin_asked_once_then_main_menu():
    fake = Fake()
    assert respond("", one(), fake).text == "CON [fr]Your PIN?"
    reply = respond("2580", one(), fake)
    assert reply.authenticated
    assert reply.text.splitlines()[0] == "CON [fr]1 Savings"
    assert reply.text.splitlines()[-1] == "[fr]0 Quit"
    # The next request replays the chain: the PIN is not checked again.
    fake.calls.clear()
    reply = respond("2580*1", in_(), fake)
    assert ("verify", AWA.id, "2580") not in fake.calls
    assert "Dépot à vue: 12 500 F" in reply.text  # ô folded, é à kept (GSM-7)
    assert reply.text.endswith("[fr]0 Back")


def test_wrong_pin_ends_the_session_and_says_the_tries_left():
    fake = Fake()
    reply = respond("1111", one(), fake)
    assert reply.text == "END [fr]Wrong PIN. Tries left: 2. Dial again."
    assert not reply.authenticated


def test_third_wrong_pin_locks():
    fake = Fake(tries=2)
    reply = respond("1111", one(), fake)
    assert reply.text == "END [fr]PIN locked. Try again in 15 minutes."


def test_locked_pin_ends_before_asking():
    reply = respond("", one(), Fake(state=menu.PIN_LOCKED))
    assert reply.text == "END [fr]PIN locked. Try again in 15 minutes."


def test_no_pin_sends_her_to_the_counter():
    reply = respond("", one(), Fake(state=menu.PIN_NONE))
    assert reply.text.startswith("END ")
    assert "Ask your caisse" in reply.text


def test_an_old_pin_input_that_did_not_open_the_session_ends_it():
    # "1111" was wrong (the session ended); a gateway replaying past it gets END, no check.
    fake = Fake()
    reply = respond("1111*2580", one(), fake)
    assert reply.text.startswith("END ")
    assert not any(c[0] == "verify" for c in fake.calls)


def test_each_screen_and_back():
    fake = Fake(data_instalments=[Instalment("C001-2026-00012", date(2026, 3, 12), 27500, 5000)],
                data_receipts=[ReceiptLine(date(2026, 3, 5), "savings", 5000),
                               ReceiptLine(date(2026, 3, 1), "loan", 27500),
                               ReceiptLine(date(2026, 2, 28), "health", 1500)])
    s = in_()
    loans = respond("2580*2", s, fake).text
    assert "Pay 27 500 F by 12/03/2026" in loans
    assert "Late: 5 000 F" in loans
    assert "C001-2026-00012" in loans
    assert "you are covered" in respond("2580*3", s, fake).text
    receipts = respond("2580*4", s, fake).text.splitlines()
    assert receipts[0:3] == ["CON 05/03 [fr]Savings 5 000 F", "01/03 [fr]Loan 27 500 F",
                             "28/02 [fr]Mutual 1 500 F"]
    assert respond("2580*4*0", s, fake).text.startswith("CON [fr]1 Savings")
    assert respond("2580*0", s, fake).text == "END [fr]Goodbye."


def test_call_me_back_only_for_the_newest_input():
    fake = Fake()
    s = in_()
    reply = respond("2580*5", s, fake)
    assert "Your caisse will call you." in reply.text
    assert fake.calls.count(("callback", AWA.id)) == 1
    fake.calls.clear()
    respond("2580*5*0", s, fake)  # replayed: no second request
    assert ("callback", AWA.id) not in fake.calls
    assert "Already asked" in respond("2580*5", s, Fake(callback="already")).text
    assert "not a member" in respond("2580*5", s, Fake(callback="no_unit")).text


def test_language_menu_changes_the_language_and_saves_it_once():
    fake = Fake()
    s = in_()
    assert respond("2580*6", s, fake).text.startswith("CON 1 Francais\n2 Bamanankan")
    reply = respond("2580*6*2", s, fake)
    assert reply.language == "bm"
    assert reply.text.startswith("CON [bm]Language saved.")
    assert fake.calls.count(("language", AWA.id, "bm")) == 1
    fake.calls.clear()
    reply = respond("2580*6*2*1", s, fake)
    assert reply.language == "bm"
    assert "[bm]Savings" in reply.text
    assert not any(c[0] == "language" for c in fake.calls)
    assert respond("2580*6*0", s, fake).text.startswith("CON [fr]1 Savings")
    assert "Wrong choice" in respond("2580*6*9", s, fake).text


def test_garbage_and_empty_inputs_are_wrong_choices():
    fake = Fake()
    s = in_()
    for text in ("2580*9", "2580*", "2580*#", "2580*12", "2580*1*x"):
        reply = respond(text, s, fake)
        assert reply.text.startswith("CON "), text
        assert "[fr]Wrong choice." in reply.text, text


def test_too_long_a_chain_ends():
    reply = respond("1*" * 100 + "1", in_(), Fake())
    assert reply.text == "END [fr]Too many choices. Dial again."


def test_several_persons_on_one_phone_type_their_first_name_and_no_name_is_shown():
    fake = Fake()
    s = Session(persons=(AWA, FANTA), start_language="fr")
    first = respond("", s, fake).text
    assert first == "CON [fr]Your first name?"
    wrong = respond("Mariam", s, fake).text
    assert "Awa" not in wrong
    assert "Fanta" not in wrong
    assert "Name not found" in wrong
    reply = respond("KADIATOU", s, fake)  # any word of her first name, any case
    assert reply.text == "CON [fr]Your PIN?"
    reply = respond("kadiatou*2580*1", Session(persons=(AWA, FANTA), start_language="fr",
                                              authenticated=True, person_id=FANTA.id), fake)
    assert reply.person_id == FANTA.id
    assert ("balances", FANTA.id) in fake.calls
    assert ("balances", AWA.id) not in fake.calls


def test_a_session_opened_for_one_person_does_not_open_for_another():
    fake = Fake()
    s = Session(persons=(AWA, FANTA), start_language="fr", authenticated=True,
                person_id=FANTA.id)
    # The chain names Awa: her PIN must be asked, Fanta's session does not count.
    reply = respond("awa", s, fake)
    assert reply.text == "CON [fr]Your PIN?"
    assert not reply.authenticated


def test_two_persons_with_the_same_first_name_go_to_the_counter():
    s = Session(persons=(AWA, Person(3, "Awa")), start_language="fr")
    assert respond("awa", s, Fake()).text.startswith("END ")


def test_cover_statuses():
    s = in_()
    cases = {Cover("waiting", until=date(2026, 4, 1)): "covered from 01/04/2026",
             Cover("suspended", amount=4500): "suspended. To pay: 4 500 F",
             Cover("ended"): "coverage ended", Cover("none"): "not covered"}
    for cover, words in cases.items():
        assert words in respond("2580*3", s, Fake(data_cover=cover)).text


def test_a_broken_translation_falls_back_to_the_english_text():
    fake = Fake(words={("fr", "Late: %(amount)s"): "Retard : %(montant)s"},
                data_instalments=[Instalment("L1", date(2026, 3, 12), 100, 50)])
    assert "Late: 50 F" in respond("2580*2", in_(), fake).text


def test_francs_and_gsm_fold():
    assert francs(1234567) == "1 234 567 F"
    assert francs(-500) == "-500 F"
    assert gsm_fold("Ɛ bɛ ɲɔgɔn ŋaniya") == "E bè nyògòn nganiya"
    assert gsm_fold("reçu «prêt» fête") == 'recu "pret" fete'
    assert gsm_fold("€ [x]") == "€ [x]"
    assert septets("€ [x]") == 8
    assert gsm_fold("😀") == "?"


# --- invariants ----------------------------------------------------------------------------------

FR = {"fr", "bm"}
BAMBARA = "ɛɔɲŋƐƆƝŊ"
texts = st.text(alphabet=st.sampled_from("0123456789*#x ɛ"), max_size=60) | st.lists(
    st.sampled_from(["", "0", "1", "2", "3", "4", "5", "6", "9", "2580", "awa", "1111"]),
    max_size=12).map("*".join)
names = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
                max_size=120)
amounts = st.integers(min_value=-(10**15), max_value=10**15)
days = st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31))


def _valid(text: str) -> bool:
    return (text.startswith(("CON ", "END ")) and septets(text) <= 182
            and all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text))


@settings(max_examples=300, deadline=None)
@given(text=texts, start=st.sampled_from(["", "fr", "bm"]), auth=st.booleans(),
       persons=st.lists(names, min_size=0, max_size=3),
       balances=st.lists(st.tuples(names, amounts), max_size=8),
       loans=st.lists(st.tuples(names, days, amounts, amounts), max_size=4),
       receipts=st.lists(st.tuples(days, st.sampled_from(["savings", "loan", "health", "x"]),
                                   amounts), max_size=5),
       stretch=st.integers(min_value=1, max_value=6), bambara=st.booleans(),
       state=st.sampled_from([menu.PIN_OK, menu.PIN_LOCKED, menu.PIN_NONE]))
def test_every_reply_is_con_or_end_and_fits_182_gsm_characters(
        text, start, auth, persons, balances, loans, receipts, stretch, bambara, state):
    people = tuple(Person(i + 1, n) for i, n in enumerate(persons))
    # Translations far longer than the English, with Bambara letters when asked.
    fake = Fake(stretch=stretch, state=state,
                words={} if not bambara else _bambara_words(),
                data_balances=[Balance(n, a) for n, a in balances],
                data_instalments=[Instalment(n, d, a, b) for n, d, a, b in loans],
                data_receipts=[ReceiptLine(d, k, a) for d, k, a in receipts])
    session = Session(persons=people, start_language=start, authenticated=auth,
                      person_id=1 if auth else None)
    reply = respond(text, session, fake)
    assert _valid(reply.text), reply.text
    assert reply.language in FR


def _bambara_words() -> dict:
    words = {}
    for msgid in ("Your PIN?", "1 Savings", "2 Loan to pay", "3 Mutual", "4 Receipts",
                  "5 Call me", "6 Language", "0 Quit", "0 Back", "Savings", "Wrong choice.",
                  "Pay %(amount)s by %(day)s", "Loan %(loan)s", "Late: %(amount)s"):
        for lang in FR:
            words[(lang, msgid)] = f"{BAMBARA} {msgid} {BAMBARA}"
    return words


@given(lines=st.lists(names, max_size=20), footer=st.lists(names, max_size=3),
       prefix=st.sampled_from(["CON ", "END "]))
def test_fit_always_fits(lines, footer, prefix):
    text = fit(prefix, lines, footer)
    assert _valid(text)
    if septets(prefix + "\n".join(gsm_fold(x) for x in lines + footer)) <= 182:
        assert text == prefix + "\n".join(gsm_fold(x) for x in lines + footer)


def test_long_product_names_are_cut_at_a_word():
    fake = Fake(data_balances=[Balance("Épargne à vue (livret)", 6700),
                               Balance("Dépôt à terme (12 mois, taux progressif)", 100000)])
    lines = respond("2580*1", in_(), fake).text.splitlines()
    assert lines[1] == "Épargne à vue (livret): 6 700 F"
    assert lines[2] == "Dépot à terme: 100 000 F"
