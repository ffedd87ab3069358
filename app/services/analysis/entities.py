"""Who is on the call: names, companies, the agent's department and id, the customer's e-mail and
phone, as they were said ("james dot rivera at greenfield dental dot com")."""

from __future__ import annotations

import re

from app.services.analysis.money import to_digits
from app.services.analysis.schema import Agent, Customer
from app.services.redaction import digit_runs

NAME_WORD = r"[A-Z][a-z]+(?:['-][A-Z]?[a-z]+)?"
NOT_NAMES = {
    "I", "Im", "The", "This", "That", "Thank", "Thanks", "Calling", "Sorry", "Just", "Here", "Hi", "Hello",
    "Yes", "No", "Okay", "Ok", "Sure", "Well", "So", "And", "But", "Not", "Very", "Really", "Happy", "Glad",
    "Going", "Trying", "Looking", "Having", "Still", "Also", "Your", "My", "Our", "We", "You", "It", "Its",
    "Customer", "Agent", "Support", "Billing", "Sales", "Service", "Team", "Department", "Speaking", "With",
    "From", "At", "Today", "Good", "Morning", "Afternoon", "Evening", "Great", "Fine", "Ready",
}  # fmt: skip
COMPANY_SUFFIX = r"(?:\s+(?:Inc|LLC|Ltd|Group|Corp|Corporation|Company|Co|Partners|Associates|Clinic|Dental|Medical))*"

SELF_INTRODUCTION = [
    re.compile(rf"\b(?i:my name is) (?P<name>{NAME_WORD}(?: {NAME_WORD})?)"),
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


def _clean_name(name: str | None) -> str | None:
    if not name:
        return None
    words = [w for w in name.split() if w.strip(".,") not in NOT_NAMES]
    return " ".join(words) or None


def introduced_name(text: str) -> str | None:
    for pattern in SELF_INTRODUCTION:
        for match in pattern.finditer(text):
            name = _clean_name(match.group("name"))
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


def extract_agent(agent_text: str) -> Agent:
    department = None
    greeting = AGENT_COMPANY.search(agent_text)
    search_in = agent_text[greeting.start() : greeting.end() + 60] if greeting else agent_text[:300]
    match = DEPARTMENTS.search(search_in)
    if match:
        department = match.group("department").title().replace("Tech ", "Technical ")
    agent_id = AGENT_ID.search(to_digits(agent_text))
    return Agent(
        name=introduced_name(agent_text),
        department=department,
        agent_id=re.sub(r"[\s-]", "", agent_id.group("id")).upper() if agent_id else None,
    )


def agent_company(agent_text: str) -> str | None:
    return _company(AGENT_COMPANY, agent_text)


def extract_customer(customer_text: str, agent_text: str) -> Customer:
    name = introduced_name(customer_text)
    if name is None:
        addressed = ADDRESSED.search(agent_text)
        name = addressed.group("name") if addressed else None
    company = _company(CUSTOMER_COMPANY, customer_text)
    if company and company == agent_company(agent_text):
        company = None
    return Customer(name=name, company=company, email=_spoken_email(customer_text), phone=_phone(customer_text))
