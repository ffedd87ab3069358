"""The corpus's second script style: calls as people ramble through them.

Written apart from `scenarios` on purpose, and unlike it: long turns that wander ("so basically, my
daughter set this up, and..."); names from many languages, given late, spelled (with dashes,
commas, "as in"), corrected after the agent gets them wrong, and echoed by the agent; amounts in
every common spoken form, often with no currency word ("55 a month", "a hundred and twelve fifty",
"two hundred bucks", "89.99"), beside account, claim and order numbers. The same twelve families
and the same truth fields as `scenarios`, so both styles are scored by one scorer.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable

from faker import Faker

from tests.support.corpus.scenarios import CARD_TYPES, A, C, Line, Script
from tests.support.corpus.speech import (
    ONES,
    card_text,
    digit_words,
    expiry_text,
    money_written,
    number_words,
    phone_text,
    words_below_100,
)

# Locales whose names are written in the Latin alphabet; accents are dropped in the truth (a
# recognizer writes "Castaneda" as often as "Castañeda").
NAME_LOCALES = [
    "es_MX",
    "it_IT",
    "de_DE",
    "pl_PL",
    "vi_VN",
    "fr_FR",
    "pt_BR",
    "en_IN",
    "tr_TR",
    "nl_NL",
    "en_IE",
    "en_US",
]
FILLER_OPENERS = ["So, um,", "Yeah, so basically,", "Okay so, right,", "Hi, yeah, um,", "Right, so, the thing is,"]
TANGENTS = [
    "my daughter set all this up for me, I'm not great with this stuff,",
    "I've been with you guys for, gosh, must be eight years now,",
    "I tried the website first but it just kept logging me out,",
    "and honestly I've been meaning to call about this for weeks,",
    "I'm on my lunch break so I don't have loads of time,",
]
SAYING_IT = ["Yeah, it is", "Sure, it is", "It's"]
NATO = {
    "A": "Alpha", "B": "Bravo", "C": "Charlie", "D": "David", "E": "Echo", "F": "Frank", "G": "George",
    "H": "Henry", "I": "India", "J": "John", "K": "Kilo", "L": "Lima", "M": "Mike", "N": "Nancy", "O": "Oscar",
    "P": "Peter", "Q": "Queen", "R": "Romeo", "S": "Sierra", "T": "Tango", "U": "Uniform", "V": "Victor",
    "W": "William", "X": "X-ray", "Y": "Yankee", "Z": "Zulu",
}  # fmt: skip


def plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def spelled(word: str, rng: random.Random) -> str:
    """A name spelled the ways people spell on the phone: "C-A-S-T-A", "C, A, S", in threes, "K as in Kilo"."""
    letters = [c for c in word.upper() if c.isalpha()]
    style = rng.choice(["dashes", "commas", "threes", "as_in"])
    if style == "dashes":
        return "-".join(letters)
    if style == "commas":
        return ", ".join(letters)
    if style == "threes":
        return ", ".join("-".join(letters[i : i + 3]) for i in range(0, len(letters), 3))
    first = letters[0]
    return f"{first} as in {NATO.get(first, first)}, " + ", ".join(letters[1:])


def spoken_amount(cents: int, rng: random.Random, *, currency: bool | None = None) -> str:
    """An amount as people say it, with or without a currency word: "$89.99", "89.99", "eighty-nine
    ninety-nine", "a hundred and twelve fifty", "two hundred bucks", "55", "fifty five dollars"."""
    dollars, rest = divmod(cents, 100)
    with_currency = rng.random() < 0.5 if currency is None else currency
    styles = ["figure", "words"]
    if rest and 20 <= dollars < 1000 and (dollars < 100 or dollars % 100):
        styles += ["pairs"]
    if not rest:
        styles += ["bucks" if with_currency else "bare"]
    style = rng.choice(styles)
    if style == "figure":
        figure = f"{dollars:,}" + (f".{rest:02d}" if rest else "")
        return f"${figure}" if with_currency else figure
    if style == "bucks":
        return f"{number_words(dollars, with_and=True)} bucks"
    if style == "bare":
        return str(dollars) if rng.random() < 0.5 else number_words(dollars)
    if style == "pairs":
        # "eighty-nine ninety-nine", "a hundred and twelve fifty", "two twelve forty"
        if dollars < 100:
            head = words_below_100(dollars).replace(" ", "-")
        elif 110 <= dollars < 200 and rng.random() < 0.5:
            head = f"a hundred and {words_below_100(dollars - 100)}"
        else:
            hundreds, tail = divmod(dollars, 100)
            head = f"{ONES[hundreds]} {words_below_100(tail) if tail >= 10 else 'oh ' + ONES[tail]}"
        return f"{head} {words_below_100(rest)}"
    text = number_words(dollars, with_and=rng.random() < 0.5)
    if rest and not 20 <= dollars < 100:
        # "one hundred twenty five" would be $125, not $100.25; "fifteen twenty five" is $1,525 as often
        with_currency = True
    if with_currency:
        text += " dollars" + (f" and {words_below_100(rest)} cents" if rest else "")
    elif rest:
        text += f" {words_below_100(rest)}"
    return text


def reference_number(rng: random.Random) -> str:
    kind = rng.choice(["account number", "claim number", "order number", "reference"])
    digits = "".join(rng.choice("0123456789") for _ in range(8))
    said = f"{digits[:4]} {digits[4:]}" if rng.random() < 0.5 else digit_words(digits, rng)
    return f"the {kind} is {said}"


class Talk:
    """One conversational call being written: its people, and the name lines placed as drawn."""

    def __init__(self, fake: Faker, rng: random.Random) -> None:
        self.rng = rng
        local = Faker(rng.choice(NAME_LOCALES))
        local.seed_instance(rng.randrange(2**31))
        self.first, self.last = plain(local.first_name()), plain(local.last_name().split()[-1])
        self.agent = plain(Faker(rng.choice(NAME_LOCALES)).first_name()) if rng.random() < 0.5 else fake.first_name()
        self.company = f"{fake.last_name()} {rng.choice(['Mobile', 'Energy', 'Broadband', 'Insurance', 'Home'])}"
        self.agent_named = rng.random() < 0.8
        self.name_style = rng.choice(["spelled", "spelled", "corrected", "late", "echoed"])
        # What the scorecard's closing questions are scored against, set as the closing is written.
        self.offered_help = False
        self.agent_closed = False

    @property
    def full(self) -> str:
        return f"{self.first} {self.last}"

    def ramble(self, point: str) -> str:
        rng = self.rng
        return f"{rng.choice(FILLER_OPENERS)} {rng.choice(TANGENTS)} {point}" if rng.random() < 0.7 else point

    def greeting(self) -> Line:
        rng, name, company = self.rng, self.agent, self.company
        if self.agent_named:
            text = rng.choice(
                [
                    f"Morning, you're speaking with {name} at {company}, what can I do for you?",
                    f"Hiya, {company}, it's {name} on the line, how can I help?",
                    f"Thank you for calling {company}, {name} here, and who do I have the pleasure of?",
                    f"Hello, {name} from {company}. Bear with me one sec. Okay, go ahead.",
                ]
            )
        else:
            text = rng.choice([f"{company}, hello, go ahead.", f"Hi, {company} customer line, what's up?"])
        return Line(A, text)

    def naming(self) -> list[Line]:
        """The customer's name, the way `name_style` says it comes out."""
        rng = self.rng
        if self.name_style == "late":
            return []
        if self.name_style == "spelled":
            return [
                Line(A, rng.choice(["Can I grab your name?", "And your name there?", "Who's the account holder?"])),
                Line(C, f"{rng.choice(SAYING_IT)} {self.full}, {spelled(self.last, rng)}."),
                Line(A, rng.choice([f"Lovely, thanks {self.first}.", f"Got it, {self.first}.", "Perfect, got that."])),
            ]
        if self.name_style == "corrected":
            wrong = rng.choice(["Carter", "Martin", "Lopez", "Collins", "Baker"])
            return [
                Line(A, "What name is it under?"),
                Line(C, f"{self.full}."),
                Line(A, f"Thanks, Mr. {wrong}." if rng.random() < 0.5 else f"Thanks, Ms. {wrong}."),
                Line(C, f"Oh, no, it's {self.last}, actually. {spelled(self.last, rng)}."),
                Line(A, f"Sorry about that, {self.last}. Got it now."),
            ]
        return [
            Line(C, self.ramble(f"it's {self.first} {self.last} by the way.")),
            Line(A, rng.choice([f"Got it, {self.first}.", f"Thanks, {self.first}.", f"Okay {self.first}, thanks."])),
        ]

    def late_naming(self) -> list[Line]:
        if self.name_style != "late":
            return []
        return [
            Line(
                A,
                self.rng.choice(
                    ["Oh, and before I forget, who have I been speaking with?", "Sorry, I never took your name?"]
                ),
            ),
            Line(C, f"Oh, {self.first}. {self.first} {self.last}. That's {spelled(self.last, self.rng)}."),
        ]

    def call(self, reason: str, middle: list[Line], closing: bool = True) -> list[Line]:
        rng = self.rng
        lines = [self.greeting(), Line(C, self.ramble(reason)), *self.naming(), *middle, *self.late_naming()]
        if closing:
            self.offered_help = True
            lines += [
                Line(A, rng.choice(["Anything else while I've got you?", "Is that everything for today?"])),
                Line(
                    C,
                    rng.choice(
                        ["No, that's everything, cheers.", "Nope, you've been a star, thanks.", "That's it, bye bye."]
                    ),
                ),
            ]
            if not self.agent_named and rng.random() < 0.5:
                self.agent_named = True
                self.agent_closed = True
                lines.append(Line(A, f"No worries. It was {self.agent}, if you need to call back. Take care."))
        return lines

    def truth(self, family: str, call_type: str | None, outcome: str | None, **extra: object) -> dict[str, object]:
        return {
            "family": family, "style": "conversational", "speakers": 2, "call_type": call_type,
            "call_outcome": outcome, "customer_name": self.full, "agent_name": self.agent if self.agent_named else None,
            "recording_disclosure": False, "offered_help": self.offered_help, "agent_closed": self.agent_closed,
            "financial": {}, "cards": [], **extra,
        }  # fmt: skip


def _cents(rng: random.Random, low: int, high: int, whole: float = 0.5) -> int:
    dollars = rng.randint(low, high)
    return dollars * 100 if rng.random() < whole else dollars * 100 + rng.choice([40, 50, 95, 99, 25, 75])


def billing_dispute(t: Talk) -> Script:
    rng = t.rng
    usual, charged = _cents(rng, 40, 90), 0
    credit = _cents(rng, 15, 60)
    charged = usual + credit
    lines = t.call(
        f"my bill came in at {spoken_amount(charged, rng)} this month and it's normally {spoken_amount(usual, rng)}, "
        f"so something's gone wrong somewhere, {reference_number(rng)}.",
        [
            Line(A, "Let me have a dig into that for you.", hold_after=rng.choice([0, 8])),
            Line(A, rng.choice([
                f"Okay, there's a roaming add-on that shouldn't be there. I've taken it off, that's {spoken_amount(credit, rng)} credited back to you.",
                f"Right, found it, you were charged for a late fee by mistake, so I've refunded {spoken_amount(credit, rng)} to the account.",
            ])),
            Line(C, rng.choice(["Oh brilliant, that's a relief honestly.", "Okay, great, that's sorted then."])),
        ],
    )  # fmt: skip
    return Script(
        "billing_dispute",
        lines,
        t.truth("billing_dispute", "billing", "resolved", financial={"credit_issued": money_written(credit)}),
    )


def card_payment(t: Talk, fake: Faker) -> Script:
    rng = t.rng
    card_type, brand = rng.choice(CARD_TYPES)
    number = fake.credit_card_number(card_type=card_type)
    cvv = "".join(str(rng.randint(0, 9)) for _ in range(4 if brand == "American Express" else 3))
    amount = _cents(rng, 60, 700)
    lines = t.call(
        f"I got a text saying I owe {spoken_amount(amount, rng)} and I just want to pay it off today if I can.",
        [
            Line(A, "No problem at all. Whenever you're ready, the long number on the card."),
            Line(C, f"Okay, hang on, it's in my purse. Right. {card_text(number, rng)}."),
            Line(A, "And the expiry?"),
            Line(C, f"{expiry_text(rng.randint(1, 12), rng.randint(2027, 2031), rng)}."),
            Line(A, "And the three digits on the back?" if brand != "American Express" else "And the four digits on the front?"),
            Line(C, f"{digit_words(cvv, rng, doubles=0)}."),
            Line(A, f"Lovely, that's gone through, {spoken_amount(amount, rng, currency=True)} paid today, you'll get a receipt by email."),
            Line(C, "Amazing, thank you."),
        ],
    )  # fmt: skip
    truth = t.truth(
        "card_payment", "billing", "resolved", financial={"payment_today": money_written(amount)},
        cards=[{"first4": number[:4], "last4": number[-4:], "brand": brand}],
    )  # fmt: skip
    return Script("card_payment", lines, truth, secrets=[number, number[4:-4], cvv])


def retention_offer(t: Talk) -> Script:
    rng = t.rng
    old = _cents(rng, 60, 110, 1.0)
    new = old - rng.choice([1000, 1500, 2000])
    lines = t.call(
        f"I'm paying {spoken_amount(old, rng)} a month and my neighbour's paying way less with another lot, so I'm thinking I'll just leave.",
        [
            Line(A, "Oh, I'd hate to lose you. Let me see what I've got.", hold_after=rng.choice([0, 9])),
            Line(A, f"Okay, I can do {spoken_amount(new, rng)} a month for the next twelve months if you stay."),
            Line(C, rng.choice(["Oh, go on then, that's fair enough.", "Yeah alright, at that price I'll stick around."])),
            Line(A, "Done, that kicks in from your next bill."),
        ],
    )  # fmt: skip
    return Script(
        "retention_offer",
        lines,
        t.truth("retention_offer", "retention", "resolved", financial={"recurring_amount": money_written(new)}),
    )


def cancellation(t: Talk) -> Script:
    rng = t.rng
    lines = t.call(
        rng.choice(["we're moving in with my partner and she already has all this, so I need to close mine down.",
                    "I just don't use it anymore, so I want to shut the account."]),
        [
            Line(A, "Is there anything I could offer that would change your mind?"),
            Line(C, "Nah, honestly, I've made my mind up."),
            Line(A, "Fair enough. I've closed it today, there's nothing more to pay and the confirmation will come by email."),
            Line(C, "Cheers, that was easier than I thought."),
        ],
    )  # fmt: skip
    return Script("cancellation", lines, t.truth("cancellation", "retention", "resolved"))


def tech_support(t: Talk) -> Script:
    rng = t.rng
    thing = rng.choice(["broadband", "router", "TV box", "wifi"])
    lines = t.call(
        f"the {thing} keeps dropping out every night around eight and the kids are going mad.",
        [
            Line(A, "Okay, could you turn the router off at the wall, count to twenty, and pop it back on for me?"),
            Line(C, "Yeah, one sec.", hold_after=rng.choice([0, 10])),
            Line(C, rng.choice(["Oh, it's all green now and the laptop's connected.", "Okay, it's working again, pages are loading."])),
            Line(A, "Great, I've also pushed a fix to the line, so it should stay up now."),
        ],
    )  # fmt: skip
    return Script("tech_support", lines, t.truth("tech_support", "support", "resolved"))


def escalation(t: Talk) -> Script:
    rng = t.rng
    lines = t.call(
        f"my online account's been locked for three days and I can't pay anything, {reference_number(rng)}.",
        [
            Line(A, "Let me try a reset from here.", hold_after=rng.choice([0, 10])),
            Line(A, rng.choice([
                "Hmm, I can't unlock this one myself, I'm going to send it up to our security team to look at.",
                "That's not something I'm able to fix from here, I'll pass it over to my manager to sort.",
            ])),
            Line(C, "How long's that going to be?"),
            Line(A, "They'll call you back within two working days."),
        ],
    )  # fmt: skip
    return Script("escalation", lines, t.truth("escalation", "support", "escalated"))


def complaint_unresolved(t: Talk) -> Script:
    rng = t.rng
    fee = _cents(rng, 25, 120, 1.0)
    lines = t.call(
        "nobody turned up for the installation, again, and I'd booked the whole day off, so I'm pretty fed up.",
        [
            Line(A, "I'm really sorry about that."),
            Line(C, f"And you've charged me a {spoken_amount(fee, rng)} missed appointment fee on top, which I want gone."),
            Line(A, "I'm sorry, I'm not able to take that fee off, it's not something I can do."),
            Line(C, "That's just not good enough. I'm going to look at other providers."),
            Line(A, "I understand, I've logged the complaint on your account."),
            Line(C, "Yeah, whatever. Bye."),
        ],
        closing=False,
    )  # fmt: skip
    return Script("complaint_unresolved", lines, t.truth("complaint_unresolved", "complaint", "unresolved"))


def payment_plan(t: Talk) -> Script:
    rng = t.rng
    owed = _cents(rng, 300, 1200, 1.0)
    today = owed // rng.choice([3, 4]) // 100 * 100
    rest = owed - today
    lines = t.call(
        f"I've had a letter, the balance is {spoken_amount(owed, rng)} and there's no way I can do that in one go right now.",
        [
            Line(A, "That's okay, we can spread it. How much could you manage today?"),
            Line(C, f"Could I do {spoken_amount(today, rng)} now?"),
            Line(A, f"Yep, that's {spoken_amount(today, rng)} taken today, and the other {spoken_amount(rest, rng)} is due next month."),
            Line(C, "Okay, that's doable, thank you."),
        ],
    )  # fmt: skip
    truth = t.truth(
        "payment_plan", "billing", "partial",
        financial={"payment_today": money_written(today), "pending_balance": money_written(rest)},
    )  # fmt: skip
    return Script("payment_plan", lines, truth)


def sales_upgrade(t: Talk) -> Script:
    rng = t.rng
    price = _cents(rng, 30, 90, 0.6)
    lines = t.call(
        "I saw an advert for the faster package and I was wondering what it'd be for us.",
        [
            Line(A, f"So the ten gig plan is {spoken_amount(price, rng)} a month, and there's no setup charge at the moment."),
            Line(C, rng.choice(["Oh, that's not bad at all. Yeah, let's do it.", "Go on then, sign me up."])),
            Line(A, "Brilliant, that's added, it'll be live by tomorrow."),
        ],
    )  # fmt: skip
    return Script(
        "sales_upgrade",
        lines,
        t.truth("sales_upgrade", "sales", "resolved", financial={"recurring_amount": money_written(price)}),
    )


def address_change(t: Talk, fake: Faker) -> Script:
    lines = t.call(
        "we've moved house, so I need the address changing on everything.",
        [
            Line(A, "Sure, what's the new one?"),
            Line(C, f"It's {fake.street_address()}, that's the new place."),
            Line(A, "Okay, that's all updated for you."),
            Line(C, "Great stuff."),
        ],
    )
    return Script("address_change", lines, t.truth("address_change", "support", "resolved"))


def callback_request(t: Talk, fake: Faker) -> Script:
    rng = t.rng
    phone = f"{rng.randint(201, 989)}555{rng.randint(1000, 9999)}"
    lines = t.call(
        "I wanted to go over my contract renewal but I'm about to go into a meeting.",
        [
            Line(A, "No bother, I'll get someone to ring you back. Best number?"),
            Line(C, f"{phone_text(phone, rng)}."),
            Line(A, "Lovely, someone from renewals will call you tomorrow morning."),
            Line(C, "Perfect."),
        ],
    )
    return Script("callback_request", lines, t.truth("callback_request", "support", "partial"))


def voicemail(t: Talk, fake: Faker) -> Script:
    rng = t.rng
    phone = f"{rng.randint(201, 989)}555{rng.randint(1000, 9999)}"
    text = rng.choice([
        f"Hi, um, this is {t.full}, that's {spelled(t.last, rng)}, I'm ringing about the bill, it's gone up again and "
        f"I don't really understand why, so if someone could call me back on {phone_text(phone, rng)}, that'd be great. Thanks.",
        f"Hello, it's {t.first}, {t.full}, I've got a question about my account, nothing urgent, "
        f"but if you could give me a ring back sometime this week, that would be lovely. Okay, bye.",
    ])  # fmt: skip
    truth = t.truth("voicemail", None, None, speakers=1)
    truth["agent_name"] = None
    return Script("voicemail", [Line(C, text)], truth)


FAMILIES: dict[str, Callable[..., Script]] = {
    f.__name__: f
    for f in (
        billing_dispute, card_payment, retention_offer, cancellation, tech_support, escalation,
        complaint_unresolved, payment_plan, sales_upgrade, address_change, callback_request, voicemail,
    )
}  # fmt: skip
NEEDS_FAKER = {"card_payment", "address_change", "callback_request", "voicemail"}


def make_script(family: str, seed: int) -> Script:
    """One conversational call of `family`, fully decided by `seed`."""
    rng = random.Random(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)
    talk = Talk(fake, rng)
    build = FAMILIES[family]
    return build(talk, fake) if family in NEEDS_FAKER else build(talk)
