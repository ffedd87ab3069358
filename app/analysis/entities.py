"""Who is on the call: names, companies, the agent's department and id, the customer's e-mail and
phone, as they were said ("james dot rivera at greenfield dental dot com")."""

from __future__ import annotations

import itertools
import re

from spacy.lang.en.stop_words import STOP_WORDS

from app.analysis import spelling
from app.analysis.money import split_sentences, to_digits
from app.analysis.schema import Agent, Customer
from app.redaction import digit_runs

NAME_WORD = r"[A-Z][a-z]+(?:['-][A-Z]?[a-z]+)?"
NOT_NAMES = {
    "I", "Im", "The", "This", "That", "Thank", "Thanks", "Calling", "Sorry", "Just", "Here", "Hi", "Hello",
    "Yes", "No", "Okay", "Ok", "Sure", "Well", "So", "And", "But", "Not", "Very", "Really", "Happy", "Glad",
    "Going", "Trying", "Looking", "Having", "Still", "Also", "Your", "My", "Our", "We", "You", "It", "Its",
    "Customer", "Agent", "Support", "Billing", "Sales", "Service", "Team", "Department", "Speaking", "With",
    "From", "At", "Today", "Good", "Morning", "Afternoon", "Evening", "Great", "Fine", "Ready",
    "Hey", "Yeah", "There", "Holding", "Please", "Sir", "Madam", "Ma'am", "Mr", "Mrs", "Ms", "Account",
    "Bye", "Perfect", "Right", "Alright", "Oh", "Um", "Uh", "Name", "Desk",
}  # fmt: skip
COMPANY_SUFFIX = r"(?:\s+(?:Inc|LLC|Ltd|Group|Corp|Corporation|Company|Co|Partners|Associates|Clinic|Dental|Medical))*"

SELF_INTRODUCTION = [
    re.compile(rf"\b(?i:my name is|my name's|name's) (?P<name>{NAME_WORD}(?: {NAME_WORD})?)"),
    re.compile(rf"\b(?P<name>{NAME_WORD}(?: {NAME_WORD})?) (?:calling|here)\b(?! (?:is|are|was)\b)"),
    re.compile(
        rf"\b(?i:you've got|you have got|you got|you're (?:talking|speaking) (?:to|with)|ask for) "
        rf"(?P<name>{NAME_WORD})\b"
    ),
    re.compile(
        rf"\b(?i:this is) (?P<name>{NAME_WORD}(?: {NAME_WORD})?)(?= (?:from|with|at|speaking|calling|here)\b|[.,]|$)"
    ),
    re.compile(
        rf"\b(?:I'm|I am|(?i:i'm)) (?P<name>{NAME_WORD}(?: {NAME_WORD})?)(?= (?:from|with|at|calling)\b|[.,]|$)"
    ),
    re.compile(rf"\b(?i:it's|it is) (?P<name>{NAME_WORD} {NAME_WORD})\b"),
    re.compile(rf"\b(?P<name>{NAME_WORD}) speaking\b"),
]
ADDRESSED = re.compile(rf"\b(?:Mr|Mrs|Ms|Miss|Dr)\.? (?P<name>{NAME_WORD})")
# Thanked by name: "Thank you, Lauren." / "Thanks Michael."
THANKED = re.compile(rf"\b(?i:thanks|thank you),? (?P<name>{NAME_WORD})\b(?=[.,!?]|$)")
# The agent echoing the name just given: "Got it, Dia." / "Lovely, thanks Danny." / "Sorry about that, Noot."
ECHOED = re.compile(
    rf"\b(?i:got it|thanks|thank you|lovely|okay|ok|perfect|great|sorry about that|brilliant),? "
    rf"(?:(?:Mr|Mrs|Ms|Miss)\.? )?(?P<name>{NAME_WORD})\b(?=[.,!?]|$)"
)
# The customer greeting the agent by the name the agent gave: "Hi Holly, I'm Allison Palmer."
GREETED = re.compile(rf"\b(?i:hi|hello|hey|thanks|thank you),? (?P<name>{NAME_WORD})\b(?=[.,!?]|$)")
NAME_QUESTION = re.compile(
    r"\b(your (full )?name|who am I (speaking|talking) (with|to)|what name|name on the account|name is it under|"
    r"who's calling|who is calling|may I ask who)\b",
    re.IGNORECASE,
)
# A bare answer: "Sure, it's Dana Reyes." / "Dana Reyes."
LEADING_NAME = re.compile(
    rf"^\W*(?:(?i:sure|yes|yeah|it's|it is|it should be|it'll be|under|on|in|the)[, ]+)*"
    rf"(?P<name>{NAME_WORD}(?: {NAME_WORD})?)\b"
)
# The account's holder, said without the question being heard: "It should be under Shannon Collins."
ACCOUNT_UNDER = re.compile(
    rf"\b(?i:(?:it's|it is|it should be|should be|it'll be|account is|account's) under|"
    rf"in the name of)\s+(?P<name>{NAME_WORD}(?: {NAME_WORD})?)\b"
)
# An agent's opening: "Lucas with Acme Wireless", "Acme billing, Janice speaking".
AGENT_WITH = re.compile(rf"(?:^|[,.!?] |(?i:holding|hello|hi),? )(?P<name>{NAME_WORD}) (?:with|at|from)\b")
CUSTOMER_COMPANY = re.compile(
    rf"\b(?:calling from|I'm with|I am with|I work (?:for|at)|my company(?: is)?|(?:owner|manager) (?:of|at)|"
    rf"{NAME_WORD} (?:from|with|at))\s+(?P<company>(?:{NAME_WORD}\s?)+{COMPANY_SUFFIX})"
)
AGENT_COMPANY = re.compile(
    rf"\b(?:thank you for calling|thanks for calling|welcome to|you've reached|you have reached)\s+"
    rf"(?P<company>(?:{NAME_WORD}\s?)+)",
    re.IGNORECASE,
)
DEPARTMENTS = re.compile(
    r"\b(?P<department>(?:billing|technical|tech|customer|account|accounts|sales|retention|loyalty|collections|"
    r"claims|member|payments?)(?: (?:support|services?|care|team|department|desk))?|support|customer service|"
    r"help desk|service desk)\b",
    re.IGNORECASE,
)
AGENT_ID = re.compile(
    r"\b(?:agent|employee|operator|representative|rep|badge|staff)\s+(?:id|i\.d\.|number|no\.?|code)"
    r"(?:\s+is)?\s+(?P<id>[A-Z]{0,3}[\s-]?\d[\d\s-]{1,10}\d)",
    re.IGNORECASE,
)
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
TLDS = r"com|net|org|io|co|us|uk|ca|edu|gov|biz|info|me"
SPOKEN_EMAIL = re.compile(
    rf"\b(?P<local>[a-z0-9]+(?:\s*(?:dot|\.|underscore|dash)\s*[a-z0-9]+)*)\s+at\s+"
    rf"(?P<domain>[a-z0-9]+(?:\s+[a-z0-9]+){{0,3}}?)\s*(?:dot|\.)\s*(?P<tld>{TLDS})\b",
    re.IGNORECASE,
)
PHONE_CONTEXT = re.compile(r"\b(phone|number|call me|reach me|cell|mobile|callback|call back|contact)\b", re.I)


# English function words are never a name ("Someone from that team...", "Maybe three hundred"),
# except the few that are also given names.
FUNCTION_WORDS = frozenset(STOP_WORDS) - {"will", "may", "bill"} | {"maybe", "nope", "yep", "perhaps"}


CONTRACTION = re.compile(r"['\u2019](?:s|re|ve|ll|d|m|t)$", re.IGNORECASE)


def _is_name_word(word: str) -> bool:
    bare = word.strip(".,")
    # "It's", "That's", "We'll": a function word with its contraction is no one's name ("Reilly's" is).
    stem = CONTRACTION.sub("", bare).lower()
    return bare not in NOT_NAMES and bare.lower() not in FUNCTION_WORDS and stem not in FUNCTION_WORDS


def _clean_name(name: str | None) -> str | None:
    if not name:
        return None
    return " ".join(w for w in name.split() if _is_name_word(w)) or None


def introduced_name(text: str) -> str | None:
    for pattern in SELF_INTRODUCTION:
        for match in pattern.finditer(text):
            name = _clean_name(match.group("name"))
            if name:
                return name
    return None


# spaCy's spans can start with a word before the name: "the Richard Wagner", "under Dana Reyes".
SPAN_LEAD_IN = {"the", "a", "an", "on", "under", "in", "for", "to", "by", "of"}


def _looks_like_name(span: str) -> str | None:
    words = [w.strip(".,!?") for w in span.split()]
    while words and words[0].lower() in SPAN_LEAD_IN:
        words = words[1:]
    if not 1 <= len(words) <= 3 or not all(re.fullmatch(NAME_WORD, w) for w in words):
        return None
    return _clean_name(" ".join(words))


# Words of a business's name: a span holding one, or followed by one, names a company ("Anderson
# Water", "Burton security tech support"), not a person.
BUSINESS_WORDS = re.compile(
    r"\b(energy|water|gas|electric|power|security|insurance|bank|banking|financial|finance|credit|loans?|"
    r"telecomm?s?|wireless|mobile|cable|internet|broadband|fitness|gym|health|medical|dental|clinic|"
    r"services?|solutions|systems|group|homes?|auto|motors|airlines?|travel|utilities|logistics|foods?|"
    r"bakery|consulting|tech|technologies|software|media|realty|support|billing|customer|care|accounts?|"
    r"inc|llc|ltd|corp|company|co)\b",
    re.IGNORECASE,
)


def spoken_names(text: str) -> list[str]:
    """Every span of `text` that spaCy takes for an entity and that is written like a name, except
    those that name a business."""
    from app.analysis import ner

    found = []
    searched = 0
    for span, _ in ner.persons(text):
        at = text.find(span, searched)
        searched = at + len(span) if at >= 0 else searched
        after = text[at + len(span) :].split()[:1] if at >= 0 else []
        if BUSINESS_WORDS.search(span) or (after and BUSINESS_WORDS.fullmatch(after[0].strip(".,!?"))):
            continue
        found.append(_looks_like_name(span))
    return [n for n in found if n]


def names_in_customer_turns(turns: list[tuple[str, str]], limit: int) -> list[str]:
    """spaCy's names in the customer's first `limit` characters, each turn read on its own: a turn's
    end is a sentence's end even where the recognizer wrote no full stop ("It just spins" | "Logan
    Robinson.")."""
    found: list[str] = []
    read = 0
    for role, text in turns:
        if role == "Agent" or read >= limit:
            continue
        found += spoken_names(text[: limit - read])
        read += len(text) + 1
    return found


def _fullest(names: list[str], exclude: set[str]) -> str | None:
    """The first full name (first and last) if any, else the first single name."""
    kept = [n for n in names if not set(n.lower().split()) & exclude]
    return next((n for n in kept if " " in n), kept[0] if kept else None)


def _name_in_answer(answer: str) -> str | None:
    name = introduced_name(answer) or _fullest(spoken_names(answer), set())
    if name is None:
        leading = LEADING_NAME.match(answer)
        name = _clean_name(leading.group("name")) if leading else None
    return name


def answer_to_name_question(turns: list[tuple[str, str]]) -> str | None:
    """What the customer says right after being asked for their name: the next turn, or, where
    diarization left the answer in the agent's turn, the sentence after the question there."""
    for (role, text), (next_role, answer) in itertools.pairwise([*turns, ("", "")]):
        if role != "Agent" or not NAME_QUESTION.search(text):
            continue
        sentences = split_sentences(text)
        asked = max(i for i, sentence in enumerate(sentences) if NAME_QUESTION.search(sentence))
        if asked + 1 < len(sentences) and sentences[asked].endswith("?"):
            name = _looks_like_name(sentences[asked + 1])  # a bare name, nothing else
            if name:
                return name
        if next_role not in ("Agent", ""):
            name = _name_in_answer(answer)
            if name:
                return name
    return None


def _spoken_email(text: str) -> str | None:
    written = EMAIL.search(text)
    if written:
        return written.group(0).lower().rstrip(".")
    match = SPOKEN_EMAIL.search(text)
    if not match:
        return None
    local = re.sub(r"\s*(dot|\.)\s*", ".", match.group("local").lower())
    local = re.sub(r"\s*underscore\s*", "_", local)
    local = re.sub(r"\s*dash\s*", "-", local).replace(" ", "")
    domain = match.group("domain").lower().replace(" ", "")
    return f"{local}@{domain}.{match.group('tld').lower()}"


def _phone(text: str) -> str | None:
    """A 10-digit number (11 with a leading 1) said after a word like phone, number or call me."""
    words = text.split()
    for start, digits in digit_runs(words):
        if len(digits) == 11 and digits.startswith("1"):
            digits = digits[1:]
        if len(digits) == 10 and PHONE_CONTEXT.search(" ".join(words[max(0, start - 8) : start])):
            return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    return None


def _company(pattern: re.Pattern[str], text: str) -> str | None:
    match = pattern.search(text)
    if not match:
        return None
    words = match.group("company").strip().split()
    # Stop at a department word: "Greenfield Dental billing support" names the company first.
    kept = []
    for w in words:
        if DEPARTMENTS.fullmatch(w) or w in NOT_NAMES:
            break
        kept.append(w)
    return " ".join(kept) or None


def greeted_name(customer_text: str) -> str | None:
    """The name the customer greets or thanks the agent by."""
    for match in GREETED.finditer(customer_text):
        name = _clean_name(match.group("name"))
        if name:
            return name
    return None


def agent_name(agent_text: str, turns: list[tuple[str, str]] | None = None) -> str | None:
    """How the agent introduced themself: in the opening, by a phrase or as the name spaCy finds
    there; else anywhere later ("by the way, I'm Sam")."""
    opening = " ".join(t for r, t in (turns or []) if r == "Agent")[:250] if turns else agent_text[:250]
    with_company = AGENT_WITH.search(opening)
    name = introduced_name(opening) or (_clean_name(with_company.group("name")) if with_company else None)
    if name is None and turns:
        name = greeted_name(" ".join(t for r, t in turns if r != "Agent"))
    if name is None and turns:
        customer_words = {w.lower() for r, t in turns if r != "Agent" for w in (introduced_name(t) or "").split()}
        thanked = {m.group("name").lower() for m in THANKED.finditer(agent_text)}
        # Only the greeting, before the customer first speaks: later, the names the agent says are
        # the customer's, a colleague's or the recognizer's guesses.
        greeting = " ".join(t for _, t in itertools.takewhile(lambda turn: turn[0] == "Agent", turns))
        name = _fullest([n.split()[0] for n in spoken_names(greeting[:250])], customer_words | thanked)
    return name or introduced_name(agent_text)


def extract_agent(agent_text: str, turns: list[tuple[str, str]] | None = None) -> Agent:
    department = None
    greeting = AGENT_COMPANY.search(agent_text)
    search_in = agent_text[greeting.start() : greeting.end() + 60] if greeting else agent_text[:300]
    match = DEPARTMENTS.search(search_in)
    if match:
        department = match.group("department").title().replace("Tech ", "Technical ")
    agent_id = AGENT_ID.search(to_digits(agent_text))
    return Agent(
        name=agent_name(agent_text, turns),
        department=department,
        agent_id=re.sub(r"[\s-]", "", agent_id.group("id")).upper() if agent_id else None,
    )


def agent_company(agent_text: str) -> str | None:
    return _company(AGENT_COMPANY, agent_text)


def echoed_name(turns: list[tuple[str, str]]) -> str | None:
    """The name the agent last repeated right after the customer spoke ("Got it, Dia."): the last,
    as a name the agent got wrong is corrected ("Thanks, Ms. Carter." "It's Noot." "Sorry, Noot.")."""
    echoed = None
    for (role, _), (next_role, text) in itertools.pairwise(turns):
        if role == "Agent" or next_role != "Agent":
            continue
        match = ECHOED.search(text[:80])
        name = _clean_name(match.group("name")) if match else None
        echoed = name or echoed
    return echoed


def customer_name(customer_text: str, agent_text: str, turns: list[tuple[str, str]] | None) -> str | None:
    """Said by the customer ("this is Dana Reyes"), given when asked, found by spaCy in what the
    customer said, or how the agent addressed them ("Mr. Reyes", "thanks, Dana"); then corrected or
    completed by what the customer spelled ("Castaneda, C-A-S, T-A-N-E-D-A")."""
    customer_turns = [t for r, t in turns if r != "Agent"] if turns else [customer_text]
    echoed = echoed_name(turns) if turns else None
    unspelled = [(r, spelling.without_spellings(t) if r != "Agent" else t) for r, t in turns] if turns else None
    name = _said_name(spelling.without_spellings(customer_text), agent_text, unspelled)
    if name or any(spelling.spellings(t) for t in customer_turns):
        return spelling.with_spelling(name, customer_turns, echoed)
    if echoed:
        return echoed
    addressed = ADDRESSED.search(agent_text) or THANKED.search(agent_text)
    return _clean_name(addressed.group("name")) if addressed else None


def _said_name(customer_text: str, agent_text: str, turns: list[tuple[str, str]] | None) -> str | None:
    name = introduced_name(customer_text) or (answer_to_name_question(turns) if turns else None)
    if name is None:
        under = ACCOUNT_UNDER.search(customer_text)
        name = _clean_name(under.group("name")) if under else None
    if name is None and turns:
        agent = agent_name(agent_text, turns)
        greeted = (greeted_name(customer_text) or "").lower()
        name = _fullest(names_in_customer_turns(turns, limit=600), {*(agent or "").lower().split(), greeted})
    return name


def extract_customer(customer_text: str, agent_text: str, turns: list[tuple[str, str]] | None = None) -> Customer:
    name = customer_name(customer_text, agent_text, turns)
    company = _company(CUSTOMER_COMPANY, customer_text)
    if company and company == agent_company(agent_text):
        company = None
    return Customer(name=name, company=company, email=_spoken_email(customer_text), phone=_phone(customer_text))
