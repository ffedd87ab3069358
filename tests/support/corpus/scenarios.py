"""Call scripts for the evaluation corpus: twelve scenario families, each cue written several ways,
entities drawn by `faker`. A script carries its own truth (every analysis field it decides).

Written to be unlike the project's own fixtures on purpose: openings without the usual formula,
disclosures in other words, names given late, spelled, or never; amounts said the way people say
them; outcomes implied rather than announced.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from faker import Faker

from tests.support.corpus.speech import (
    card_text,
    digit_words,
    expiry_text,
    money_text,
    money_written,
    phone_text,
    spell,
)

A, C = "agent", "customer"


@dataclass(frozen=True)
class Line:
    speaker: str
    text: str
    hold_after: float = 0.0
    """Seconds of silence after this line (the customer on hold)."""
    backchannel: str | None = None
    """A short "mm-hm" the other side says over the middle of this line."""


@dataclass
class Script:
    family: str
    lines: list[Line]
    truth: dict[str, Any]
    secrets: list[str] = field(default_factory=list)
    """Digit strings (card numbers, security codes) that must never be readable in any output."""


@dataclass
class People:
    customer_first: str
    customer_last: str
    agent_first: str
    company: str
    customer_company: str | None
    email: str
    phone: str

    @property
    def customer_full(self) -> str:
        return f"{self.customer_first} {self.customer_last}"


COMPANY_KINDS = [
    "Energy", "Telecom", "Wireless", "Broadband", "Insurance", "Home Services", "Water", "Mobile",
    "Cable", "Fitness", "Security", "Financial",
]  # fmt: skip


def draw_people(fake: Faker, rng: random.Random) -> People:
    company = f"{fake.last_name()} {rng.choice(COMPANY_KINDS)}"
    customer_company = None
    if rng.random() < 0.3:
        customer_company = (
            f"{fake.last_name()} {rng.choice(['Bakery', 'Dental', 'Plumbing', 'Consulting', 'Logistics'])}"
        )
    first, last = fake.first_name(), fake.last_name()
    email = f"{first.lower()}.{last.lower()}@{rng.choice(['gmail', 'outlook', 'yahoo'])}.com"
    phone = f"{rng.randint(201, 989)}555{rng.randint(1000, 9999)}"
    return People(first, last, fake.first_name(), company, customer_company, email, phone)


# ---- cues, each several ways -------------------------------------------------------------------

DISCLOSURES = [
    "This call may be recorded for quality and training purposes.",
    "Just so you know, this line is monitored.",
    "Calls may be recorded for training.",
    "Before we start, I need to let you know this conversation is being recorded.",
    "Heads up, we record our calls for quality purposes.",
    "Please be aware that calls are monitored and recorded.",
]


def greeting(p: People, rng: random.Random, disclose: bool, agent_named: bool, department: str) -> str:
    company = p.company
    name = p.agent_first
    openings = [
        f"{company} {department}, {name} speaking.",
        f"Hi there, you've got {name} at {company}.",
        f"Good morning, {company}, this is {name}.",
        f"Hello, {department} desk, {name} here.",
        f"Thanks for holding. {name} with {company} {department}.",
        f"Hi, {company}. My name's {name}, what can I do for you?",
    ]
    anonymous = [
        f"{company} {department}, good afternoon.",
        f"Hello, you're through to {company}.",
        f"Hi, {company} {department}, how can I help?",
    ]
    text = rng.choice(openings if agent_named else anonymous)
    if disclose:
        disclosure = rng.choice(DISCLOSURES)
        text = f"{text} {disclosure}" if rng.random() < 0.7 else f"{disclosure} {text}"
    if not text.rstrip().endswith("?"):
        text += " " + rng.choice(["How can I help you today?", "What can I do for you?", "What's going on?", ""])
    return text.strip()


def customer_intro(p: People, rng: random.Random) -> tuple[str, str]:
    """(the customer's own opening words, the name a listener can tell from the call)."""
    full = p.customer_full
    with_company = f" from {p.customer_company}" if p.customer_company else ""
    choices = [
        (f"Hi, yeah, this is {full}{with_company}.", full),
        (f"Hello. My name's {full}{with_company}.", full),
        (f"Hey, it's {full} here.", full),
        (f"Yes hi, {full} calling{with_company}.", full),
        (f"Hi {p.agent_first}, I'm {full}{with_company}.", full),
    ]
    return rng.choice(choices)


def name_when_asked(p: People, rng: random.Random) -> tuple[list[Line], str]:
    """The agent asks for the name; the customer gives it, sometimes spelled."""
    ask = rng.choice(
        [
            "Can I get your name, please?",
            "Who am I speaking with today?",
            "And could I take your full name?",
            "Sure, can I start with your name?",
        ]
    )
    full = p.customer_full
    answer = rng.choice(
        [
            f"Sure, it's {full}.",
            f"{full}.",
            f"Yeah, {full}. That's {spell(p.customer_last)}.",
            f"It's {p.customer_first}, {p.customer_first} {p.customer_last}.",
        ]
    )
    thanks = rng.choice([f"Thank you, {p.customer_first}.", f"Thanks {p.customer_first}.", "Great, thank you."])
    return [Line(A, ask), Line(C, answer), Line(A, thanks)], full


def late_agent_name(p: People, rng: random.Random) -> str:
    return rng.choice(
        [
            f"By the way, I'm {p.agent_first}, if you need to call back.",
            f"And my name is {p.agent_first} if anything else comes up.",
            f"If you call back, just ask for {p.agent_first}.",
        ]
    )


def closing(rng: random.Random) -> list[Line]:
    return [
        Line(
            A, rng.choice(["Anything else I can do?", "Is there anything else today?", "Anything else on your mind?"])
        ),
        Line(C, rng.choice(["No, that's it. Thanks.", "Nope, that's all, thank you.", "No, I'm good. Bye."])),
        Line(A, rng.choice(["Take care.", "Have a good one.", "Thanks for calling, bye now."])),
    ]


# ---- the families ------------------------------------------------------------------------------


@dataclass
class Context:
    fake: Faker
    rng: random.Random
    people: People
    disclose: bool
    agent_named_early: bool
    agent_named_late: bool
    name_style: str  # "intro" | "asked" | "late"
    signed_off: bool = False  # the agent offered further help and closed the call

    def opening(self, department: str, reason: str) -> tuple[list[Line], str | None]:
        """Greeting, the customer's reason and name (placed as `name_style` says)."""
        p, rng = self.people, self.rng
        lines = [Line(A, greeting(p, rng, self.disclose, self.agent_named_early, department))]
        name: str | None
        if self.name_style == "intro":
            intro, name = customer_intro(p, rng)
            lines.append(Line(C, f"{intro} {reason}"))
        elif self.name_style == "asked":
            lines.append(Line(C, reason))
            asked, name = name_when_asked(p, rng)
            lines.extend(asked)
        else:
            lines.append(Line(C, reason))
            name = None
        return lines, name

    def call(
        self, department: str, reason: str, *, middle: Callable[[], list[Line]], sign_off: bool = True
    ) -> tuple[list[Line], str | None]:
        """A whole call: the opening, the name asked late if it was, the family's own lines (a
        callable, so random draws keep their order), and the sign-off; with the customer's name."""
        lines, name = self.opening(department, reason)
        late, late_name = self.late_name()
        lines = [*lines, *late, *middle()]
        self.signed_off = sign_off
        if sign_off:
            lines += self.sign_off()
        return lines, name or late_name

    def late_name(self) -> tuple[list[Line], str | None]:
        if self.name_style != "late":
            return [], None
        p = self.people
        ask = self.rng.choice(["Let me pull up the account. What name is it under?", "What's the name on the account?"])
        answer = self.rng.choice([f"{p.customer_full}.", f"It should be under {p.customer_full}."])
        return [Line(A, ask), Line(C, answer)], p.customer_full

    def sign_off(self) -> list[Line]:
        lines = closing(self.rng)
        if self.agent_named_late:
            lines[0] = Line(A, f"{late_agent_name(self.people, self.rng)} {lines[0].text}")
        return lines


def _cents(rng: random.Random, low: int, high: int, round_dollars: float = 0.5) -> int:
    dollars = rng.randint(low, high)
    return dollars * 100 if rng.random() < round_dollars else dollars * 100 + rng.choice([49, 50, 95, 99, 25])


def billing_dispute(ctx: Context) -> Script:
    rng = ctx.rng
    credit = _cents(rng, 15, 120)
    month = rng.choice(["March", "last month's", "the October", "my latest"])
    reason = rng.choice(
        [
            f"I got charged twice on {month} bill and I'd like that sorted.",
            f"There's a charge on {month} statement that I don't recognize at all.",
            f"So {month} invoice is way higher than it should be, something's off.",
        ]
    )
    lines, name = ctx.call(
        "billing",
        reason,
        sign_off=True,
        middle=lambda: [
            Line(
                A,
                rng.choice(["Okay, give me a second to look.", "Let me have a look at the account."]),
                hold_after=rng.choice([0, 0, 12]),
            ),
            Line(
                A,
                rng.choice(
                    [
                        f"Right, I see it. That was a duplicate. I've put {money_text(credit, rng)} back on your account.",
                        f"You're right, that shouldn't be there. I'm crediting {money_text(credit, rng)} back to you now.",
                        f"I can see the double charge. A refund of {money_text(credit, rng)} is on its way to your card.",
                    ]
                ),
            ),
            Line(
                C, rng.choice(["Oh good, thank you.", "Perfect, that's what I wanted.", "Okay great, appreciate it."])
            ),
        ],
    )
    return Script(
        "billing_dispute",
        lines,
        {"call_type": "billing", "call_outcome": "resolved", "customer_name": name,
         "financial": {"credit_issued": money_written(credit)}},
    )  # fmt: skip


CARD_TYPES = [("visa16", "Visa"), ("mastercard", "Mastercard"), ("amex", "American Express"), ("discover", "Discover")]


def card_payment(ctx: Context) -> Script:
    rng, fake = ctx.rng, ctx.fake
    card_type, brand = rng.choice(CARD_TYPES)
    number = fake.credit_card_number(card_type=card_type)
    cvv = "".join(str(rng.randint(0, 9)) for _ in range(4 if brand == "American Express" else 3))
    month, year = rng.randint(1, 12), rng.randint(2027, 2031)
    amount = _cents(rng, 40, 900)
    reason = rng.choice(
        [
            f"I want to pay off my bill, it's {money_text(amount, rng)}.",
            f"I'm ringing to make a payment of {money_text(amount, rng)} on my account.",
            f"I'd like to settle the {money_text(amount, rng)} I owe, over the phone if I can.",
        ]
    )
    lines, name = ctx.call("payments", reason, sign_off=True, middle=lambda: [
        Line(A, rng.choice(["Sure. Which card will you be using?", "No problem. Go ahead with the card number when you're ready."])),
        Line(C, f"{rng.choice(['It is a', 'My', 'Okay, the'])} {brand} {rng.choice(['card', ''])}, {card_text(number, rng)}.".replace("  ", " "),
             backchannel=rng.choice(["mm-hm", "okay", None])),
        Line(A, rng.choice(["And the expiry date?", "What's the expiration on it?", "When does it expire?"])),
        Line(C, f"{expiry_text(month, year, rng)}."),
        Line(A, rng.choice(["And the security code on the back?", "Last thing, the three digit code?", "And the CVV please."])
             if brand != "American Express" else "And the four digit code on the front?"),
        Line(C, f"{rng.choice(['It is', 'Sure,', ''])} {digit_words(cvv, rng, doubles=0)}.".strip()),
        Line(A, rng.choice([
            f"Thank you. That payment of {money_text(amount, rng)} went through, ending in {digit_words(number[-4:], rng, doubles=0)}.",
            f"All done, {money_text(amount, rng)} has been taken today. You'll get a confirmation email.",
        ])),
        Line(C, rng.choice(["Brilliant, thanks.", "Great.", "Okay, thank you so much."])),
    ])  # fmt: skip
    return Script(
        "card_payment",
        lines,
        {"call_type": "billing", "call_outcome": "resolved", "customer_name": name,
         "financial": {"payment_today": money_written(amount)},
         "cards": [{"first4": number[:4], "last4": number[-4:], "brand": brand}]},
        secrets=[number, number[4:-4], cvv],
    )  # fmt: skip


def retention_offer(ctx: Context) -> Script:
    rng = ctx.rng
    old, new = _cents(rng, 60, 120, 0), 0
    new = old - rng.choice([1000, 1500, 2000])
    reason = rng.choice(
        [
            "Honestly I'm thinking of switching providers, the price keeps going up.",
            "I want to cancel. Another company offered me a much better deal.",
            "I'm calling to end my contract, it's just too expensive now.",
        ]
    )
    lines, name = ctx.call("accounts", reason, sign_off=True, middle=lambda: [
        Line(A, rng.choice(["I'm sorry to hear that. Can I see what I can do before you go?", "I understand. Let me check if there's an offer for you."]), hold_after=rng.choice([0, 10])),
        Line(A, f"I can bring your monthly price down to {money_text(new, rng)} a month for the next year, from {money_text(old, rng)}."),
        Line(C, rng.choice(["Hm. Okay, at that price I'll stay.", "Alright, that works, let's do it.", "Fine, if it's that then I'll keep it."])),
        Line(A, rng.choice(["Done, the new price starts on your next bill.", "Great, I've switched you over to that rate."])),
    ])  # fmt: skip
    return Script(
        "retention_offer",
        lines,
        {"call_type": "retention", "call_outcome": "resolved", "customer_name": name,
         "financial": {"recurring_amount": money_written(new)}},
    )  # fmt: skip


def cancellation(ctx: Context) -> Script:
    rng = ctx.rng
    reason = rng.choice(
        [
            "I'm moving abroad so I need to close my account.",
            "Please cancel my membership, I don't use it anymore.",
            "I'd like to terminate the service at the end of the month.",
        ]
    )
    lines, name = ctx.call("customer care", reason, sign_off=True, middle=lambda: [
        Line(A, rng.choice(["Is there anything that would make you stay?", "Can I offer you a discount to keep you with us?"])),
        Line(C, rng.choice(["No, my mind is made up.", "No thanks, I just need it closed.", "Not really, no."])),
        Line(A, rng.choice([
            "Okay. Your account is closed as of today and you won't be billed again.",
            "Understood. The cancellation is done, the confirmation will be in your inbox.",
        ])),
        Line(C, rng.choice(["Thanks for making it easy.", "Okay, thanks.", "Great, appreciate it."])),
    ])  # fmt: skip
    return Script(
        "cancellation",
        lines,
        {"call_type": "retention", "call_outcome": "resolved", "customer_name": name},
    )


def tech_support(ctx: Context) -> Script:
    rng = ctx.rng
    device = rng.choice(["internet", "wifi", "TV box", "phone line", "app"])
    reason = rng.choice(
        [
            f"My {device} keeps cutting out every evening.",
            f"The {device} hasn't worked since yesterday.",
            f"I can't get my {device} to connect, it just spins.",
        ]
    )
    lines, name = ctx.call("tech support", reason, sign_off=True, middle=lambda: [
        Line(A, rng.choice(["Okay, let's try something. I'm sending a refresh signal from my end.", "Can you unplug it for ten seconds and plug it back in for me?"])),
        Line(C, rng.choice(["Alright, doing it now.", "Okay, hang on.", "Sure."]), hold_after=rng.choice([0, 0, 11])),
        Line(C, rng.choice(["Oh, there it is, the light's green now.", "Yep, it's loading pages again.", "Hey, that did the trick, it's back."])),
        Line(A, rng.choice(["Perfect. If it drops again, just give us a ring.", "Good stuff."])),
    ])  # fmt: skip
    return Script("tech_support", lines, {"call_type": "support", "call_outcome": "resolved", "customer_name": name})


def escalation(ctx: Context) -> Script:
    rng = ctx.rng
    reason = rng.choice(
        [
            "I can't log in to my online account, it says it's locked.",
            "My orders keep failing at checkout with an error.",
            "The device you sent me won't power on at all.",
        ]
    )
    lines, name = ctx.call("help desk", reason, sign_off=True, middle=lambda: [
        Line(A, "Let me try a couple of things.", hold_after=rng.choice([0, 12])),
        Line(A, rng.choice([
            "I'm afraid this is beyond what I can do from here. I'm passing it to our second line team.",
            "This needs someone with more access. I'm going to raise it with my supervisor.",
            "I'll have to hand this over to a specialist team, they handle these locks.",
        ])),
        Line(C, rng.choice(["How long will that take?", "Okay, when will I hear something?"])),
        Line(A, rng.choice(["Someone from that team will call you within two business days.", "They'll reach out within forty eight hours."])),
        Line(C, rng.choice(["Alright.", "Okay, fine."])),
    ])  # fmt: skip
    return Script("escalation", lines, {"call_type": "support", "call_outcome": "escalated", "customer_name": name})


def complaint_unresolved(ctx: Context) -> Script:
    rng = ctx.rng
    fee = _cents(rng, 30, 150, 1.0)
    reason = rng.choice(
        [
            "Your engineer never turned up and I took the whole day off work for it. I'm really not happy.",
            "I've been on hold three times this week and nobody fixes anything. This is a joke.",
            "The delivery guy was incredibly rude to my mother and I want someone to answer for it.",
        ]
    )
    lines, name = ctx.call("customer relations", reason, sign_off=False, middle=lambda: [
        Line(A, rng.choice(["I'm sorry that happened.", "I do apologize for that experience."])),
        Line(C, f"I want the {money_text(fee, rng)} call out fee taken off my bill."),
        Line(A, rng.choice([
            "Unfortunately the fee stays, I don't have a way to remove it.",
            "I'm afraid the system won't let me waive that charge.",
        ])),
        Line(C, rng.choice([
            "That's ridiculous. I'll be taking my business elsewhere.",
            "Unbelievable. So nobody can help me then.",
            "Well that's useless. I'm very disappointed.",
        ])),
        Line(A, "I understand your frustration. I've noted your feedback on the account."),
        Line(C, rng.choice(["Whatever. Goodbye.", "Right. Bye."])),
    ])  # fmt: skip
    return Script(
        "complaint_unresolved",
        lines,
        {"call_type": "complaint", "call_outcome": "unresolved", "customer_name": name},
    )


def payment_plan(ctx: Context) -> Script:
    rng = ctx.rng
    owed = _cents(rng, 300, 1500, 1.0)
    today = owed // rng.choice([3, 4]) // 100 * 100
    rest = owed - today
    reason = rng.choice(
        [
            f"I got a letter saying I'm behind, it's {money_text(owed, rng)}, and I can't pay it all at once.",
            f"I owe {money_text(owed, rng)} and I'm a bit short this month.",
        ]
    )
    lines, name = ctx.call("collections", reason, sign_off=True, middle=lambda: [
        Line(A, rng.choice(["We can split it up. How much could you put down today?", "That's fine, we can set up a plan. What can you manage now?"])),
        Line(C, f"Maybe {money_text(today, rng)} today?"),
        Line(A, f"Okay, I've taken {money_text(today, rng)} today, and that leaves {money_text(rest, rng)} still outstanding, due next month."),
        Line(C, rng.choice(["Okay, I'll pay the rest next month.", "That helps a lot, I'll sort out the remainder soon."])),
    ])  # fmt: skip
    return Script(
        "payment_plan",
        lines,
        {"call_type": "billing", "call_outcome": "partial", "customer_name": name,
         "financial": {"payment_today": money_written(today), "pending_balance": money_written(rest)}},
    )  # fmt: skip


def sales_upgrade(ctx: Context) -> Script:
    rng = ctx.rng
    price = _cents(rng, 30, 90, 0)
    reason = rng.choice(
        [
            "I saw the faster package advertised and I'm interested.",
            "I'd like to add a second line for my daughter.",
            "What would it cost to go up to the premium package?",
        ]
    )
    lines, name = ctx.call("sales", reason, sign_off=True, middle=lambda: [
        Line(A, f"That comes to {money_text(price, rng)} per month, and there's no setup fee this week."),
        Line(C, rng.choice(["Sounds good, sign me up.", "Go on then, let's do it.", "Yes please, add it."])),
        Line(A, rng.choice(["Lovely, it's on your account now.", "Done, you'll see it active within the hour."])),
    ])  # fmt: skip
    return Script(
        "sales_upgrade",
        lines,
        {"call_type": "sales", "call_outcome": "resolved", "customer_name": name,
         "financial": {"recurring_amount": money_written(price)}},
    )  # fmt: skip


def address_change(ctx: Context) -> Script:
    rng, fake = ctx.rng, ctx.fake
    street = fake.street_address()
    reason = rng.choice(
        ["I've moved house and need to update my address.", "My billing address has changed, can you update it?"]
    )
    lines, name = ctx.call(
        "customer service",
        reason,
        sign_off=True,
        middle=lambda: [
            Line(A, "Sure, what's the new address?"),
            Line(C, f"It's {street}."),
            Line(A, rng.choice(["Got it, that's updated on the account.", "Okay, all changed over."])),
            Line(C, "Great, thanks."),
        ],
    )
    return Script(
        "address_change",
        lines,
        {"call_type": "support", "call_outcome": "resolved", "customer_name": name},
    )


def callback_request(ctx: Context) -> Script:
    rng, p = ctx.rng, ctx.people
    reason = rng.choice(
        [
            "I had a question about the contract terms but I'm driving right now.",
            "I need to go over my renewal, but I don't have the paperwork with me.",
        ]
    )
    lines, name = ctx.call(
        "renewals",
        reason,
        sign_off=True,
        middle=lambda: [
            Line(A, "No problem, we can call you back. What's the best number?"),
            Line(C, f"{phone_text(p.phone, rng)}."),
            Line(A, "Okay, someone will ring you tomorrow afternoon to go through it."),
            Line(C, "Perfect."),
        ],
    )
    return Script(
        "callback_request",
        lines,
        {"call_type": "support", "call_outcome": "partial", "customer_name": name},
    )


def voicemail(ctx: Context) -> Script:
    rng, p = ctx.rng, ctx.people
    text = rng.choice(
        [
            f"Hi, this is {p.customer_full}. I'm calling about my bill from last month. "
            f"Could someone call me back on {phone_text(p.phone, rng)}? Thanks, bye.",
            f"Hello, it's {p.customer_full}, account holder. My internet has been down since Monday. "
            f"Please give me a call back when you can. Thank you.",
        ]
    )
    return Script(
        "voicemail",
        [Line(C, text)],
        {"call_type": None, "call_outcome": None, "customer_name": p.customer_full, "speakers": 1},
    )


FAMILIES: dict[str, Callable[[Context], Script]] = {
    f.__name__: f
    for f in (
        billing_dispute,
        card_payment,
        retention_offer,
        cancellation,
        tech_support,
        escalation,
        complaint_unresolved,
        payment_plan,
        sales_upgrade,
        address_change,
        callback_request,
        voicemail,
    )
}


def make_script(family: str, seed: int) -> Script:
    """One call of `family`, fully decided by `seed`."""
    rng = random.Random(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)
    people = draw_people(fake, rng)
    agent_named = rng.random() < 0.8
    ctx = Context(
        fake=fake,
        rng=rng,
        people=people,
        disclose=rng.random() < 0.6,
        agent_named_early=agent_named,
        agent_named_late=not agent_named and rng.random() < 0.5,
        name_style=rng.choice(["intro", "intro", "asked", "late"]),
    )
    script = FAMILIES[family](ctx)
    truth = {
        "family": family,
        "speakers": 2,
        "agent_name": people.agent_first if (ctx.agent_named_early or ctx.agent_named_late) else None,
        "recording_disclosure": ctx.disclose,
        "offered_help": ctx.signed_off,
        "agent_closed": ctx.signed_off,
        "financial": {},
        "cards": [],
        **script.truth,
    }
    if family == "voicemail":
        truth["agent_name"], truth["recording_disclosure"] = None, False
    script.truth = truth
    return script
