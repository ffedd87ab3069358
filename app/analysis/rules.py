"""The deterministic analyzer: every field of the analysis from the call's own words, with no
network. Unknown fields stay null (or empty); nothing is invented."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from app.analysis import entities, money
from app.analysis.schema import (
    AgentPerformance,
    CallFacts,
    CallOutcome,
    CallType,
    Compliance,
    CustomerSentiment,
    Sentiment,
)
from app.redaction import Finding
from app.transcript import AGENT, CUSTOMER, DiarizedTranscript, Segment


def _cues(*patterns: tuple[str, float]) -> list[tuple[re.Pattern[str], float]]:
    return [(re.compile(p, re.IGNORECASE), w) for p, w in patterns]


CALL_TYPES: dict[CallType, list[tuple[re.Pattern[str], float]]] = {
    "retention": _cues(
        (r"\bcancel\w*\b", 2.0),
        (r"\b(switch|switching|leave|leaving) (to|providers?|the service)\b", 2.0),
        (r"\bclose my account\b", 2.0),
        (r"\b(stay|keep you|retain|loyalty)\b", 1.0),
        (r"\b(competitor|better (deal|offer|price))\b", 1.5),
        (r"\b(terminat\w*|end (my|the) (contract|service|membership|subscription)|too expensive|close it)\b", 2.0),
        (
            r"\b(close|shut) (it|mine|my account|the account|everything)( \w+)? (down|off)\b|\bchange your mind\b"
            r"|\b(don't|do not|never) use it any ?more\b"
            r"|\bthinking (of|about|I'll) (just )?(leav\w*|going elsewhere)\b",
            2.0,
        ),
    ),
    "sales": _cues(
        (
            r"\b(buy|purchase|upgrade|sign up|new (plan|line|service)|add (a|another) (line|location|user))\b",
            2.0,
        ),
        (r"\b(interested in|pricing|quote|promotion|offer|package)\b", 1.0),
        (r"\border\b", 0.5),
        (
            r"\b(sign me up|premium|faster (plan|package|speed)|(second|another|extra) line(?! (team|support|tech))|"
            r"how much (would|does|is))\b",
            2.0,
        ),
    ),
    "billing": _cues(
        (r"\b(invoice|bill|billing|statement)\b", 1.5),
        (r"\b(charge[sd]?|overcharged|double charge)\b", 1.5),
        (r"\b(refund|credit|payment|balance|past due|late fee)\b", 1.0),
        (r"\b(behind|owe|overdue|payment plan|installments?|pay (it|this|the rest|off|my))\b", 1.5),
    ),
    "complaint": _cues(
        (
            r"\b(complain\w*|unacceptable|ridiculous|terrible|horrible|worst|disgusted|furious|outraged)\b",
            2.5,
        ),
        (r"\b(frustrat\w*|angry|upset|fed up|disappointed)\b", 2.0),
        (r"\b(rude|incompetent|nobody helps?)\b", 2.0),
        (r"\b(not happy|a joke|never (turned|showed) up|complaint|waste of (my )?time|taking my business)\b", 2.0),
        (r"\b((nobody|no one|no-one) (turned|showed|came) up|not good enough|look(ing)? at other providers)\b", 2.0),
    ),
    "support": _cues(
        (r"\b(not working|stopped working|doesn't work|does not work|broken|error|crash\w*)\b", 2.0),
        (
            r"\b(reset|restart|reboot|troubleshoot\w*|install\w*|set ?up|configure|login|log ?in(to)?|password)\b",
            1.5,
        ),
        (r"\b(internet|connection|wi-?fi|router|device|app|website|outage|dropping)\b", 1.0),
        (
            r"\b(cutting out|keeps? (dropping|failing|crashing)|locked|won't (connect|load|turn on|power on)|"
            r"(update|change) (my|the) (address|details|email|phone)|moved (house|home)?|new address|"
            r"question about|renewal|call me back|callback)\b",
            1.5,
        ),
    ),
}
# Ties go to the more specific type.
TYPE_PRIORITY: list[CallType] = ["complaint", "retention", "billing", "sales", "support"]

OUTCOMES: dict[CallOutcome, list[tuple[re.Pattern[str], float]]] = {
    "escalated": _cues(
        (r"\bescalat\w*\b", 3.0),
        (r"\b(transfer(ring)? you|put you through) to\b", 2.5),
        (r"\b(supervisor|manager|specialist|tier (2|two)|second line)\b", 1.5),
        (r"\b(will|going to) (call|contact|get back to) you\b", 1.0),
        (
            r"\b(hand(ing)? (it|this|you) (over|off)|pass(ing)? (it|this|you) (on|over|to)|rais(e|ing) (it|this) with|"
            r"second line|(senior|specialist|higher|escalations?) (team|level|department)|open(ed)? a ticket|"
            r"send(ing)? (it|this) (up|over) to)\b",
            3.0,
        ),
    ),
    "unresolved": _cues(
        (
            r"\b(unable to|not able to|can't|cannot|can not) "
            r"(help|fix|do|resolve|find|process|reverse|refund|waive|remove|change|take (that|the|it|this))\b",
            2.0,
        ),
        (r"\b(nothing (else )?I can do|still (not|doesn't|isn't)|not something I can do)\b", 2.0),
        (r"\b(no solution|not resolved)\b", 2.5),
        (
            r"\b(won't|will not|doesn't|does not) (let|allow) (me|us)\b"
            r"|\b(no|don't have a|do not have a) way (to|for me)\b"
            r"|\b((the|my|your|that) (fee|charge)|it) (stays|remains|stands)\b",
            2.0,
        ),
        (r"\b(unfortunately|I'm afraid|I am afraid)\b", 0.5),
        (
            r"\b(useless|ridiculous|unbelievable|taking my business elsewhere|nobody (can|will) help|a joke|"
            r"waste of (my )?time|not good enough)\b",
            1.0,
        ),
    ),
    "partial": _cues(
        (r"\b(partial(ly)?|part of (it|the)|for now|in the meantime|remaining balance|rest of the)\b", 2.0),
        (r"\b(follow up|call (us |you )?back|next week|temporary|workaround|tomorrow)\b", 1.0),
        (r"\b(rest|remainder|remaining)\b", 1.0),
        (r"\bstill (outstanding|owing|owed|due|to pay|left)\b", 2.0),
        (r"\bthe other \$?\d[\d,.]* (is )?(due|to pay|next)|\b(spread|split) (it|the payments?)\b", 2.0),
        # Someone else gets back to the customer later, whatever the verb was heard as ("bring you").
        (
            r"\b(someone|somebody|we|they|a colleague|an engineer|a technician) (will|'ll|is going to) "
            r"(\w+ )?(you|back)\b",
            1.0,
        ),
    ),
    "resolved": _cues(
        (r"\b(resolved|taken care of|fixed|sorted|all set|working (now|again)|that did it)\b", 2.0),
        (
            r"\b(I've|I have|we've|we have) (issued|applied|processed|updated|refunded|credited|reset|scheduled|"
            r"upgraded|changed|booked|sent|activated|set up|added|removed|cancelled|canceled)\b",
            2.0,
        ),
        (r"\b(I will|I'll) (issue|apply|process|send|reset|update|credit|refund)\b", 1.0),
        (r"\b(that's|that is) (all|everything)|\bthanks? (so much|for your help)\b", 1.0),
        (
            r"\b(did the trick|went through|(is|are|that's|it's) (now )?(closed|updated|done|active|cancelled|canceled|"
            r"changed|back|working|fixed|green|added|live)|all (done|changed|set|sorted|updated)"
            r"|(it's|that's|you're) all set)\b",
            2.0,
        ),
    ),
}
RECORDING = re.compile(
    r"\b(call|conversation|line)s? (is|are|may be|will be|might be|is being|are being) (being )?(recorded|monitored)"
    r"|\b(recorded|monitored) for (quality|training)|\brecording (this|the) call"
    # Whatever the recognizer made of the noun: "this car may be recorded", "we record our calls".
    r"|\b(may|might|will|could) be (being )?(recorded|monitored)\b|\b(is|are) being (recorded|monitored)\b"
    r"|\bwe (record|monitor)\b|\b(recorded|monitored) (and|or) (recorded|monitored)\b"
    # "You're on a recorded line", "we're recording this", "call recording is on".
    r"|\brecorded line\b|\b(we're|we are|I'm|I am) (now )?recording\b|\bcall recording\b",
    re.IGNORECASE,
)
# The disclosure comes in the opening; there, the recognizer may leave only its key word ("my
# monitor, and recorded", "junk read for more"): the word alone, said by the agent early, counts.
OPENING_RECORDING = re.compile(r"\b(recorded|recording|monitored|monitor)\b", re.IGNORECASE)
OPENING_SECONDS = 30.0


def recording_disclosed(full: str, transcript: DiarizedTranscript) -> bool:
    if RECORDING.search(full):
        return True
    start = transcript.segments[0].start if transcript.segments else 0.0
    early = [s for s in transcript.segments if s.start - start < OPENING_SECONDS]
    by_agent = " ".join(s.text for s in early if transcript.roles.get(s.speaker) == AGENT)
    return bool(OPENING_RECORDING.search(by_agent) or OPENING_RECORDING.search(greeting(early)))


def greeting(early: list[Segment]) -> str:
    """What is said before the call's first question ("How can I help?"), whoever diarization gave
    it to: a turn boundary misplaced there hands the end of the agent's greeting to the customer."""
    said = " ".join(s.text for s in early)
    return said.split("?", 1)[0] if "?" in said else ""


ISSUE_CUES = re.compile(
    r"\b(problem|issue|wrong|error|not working|doesn't|does not|can't|cannot|keeps?|charged|charge|noticed|"
    r"double|cancel|dispute|late|missing|broken|dropping|never received|overcharged|want to|would like to|need to|"
    r"interested in|looking for|"
    r"calling (about|because))\b",
    re.IGNORECASE,
)
ACTION_CUES = re.compile(
    r"\b(I will|I'll|we will|we'll|I am going to|I'm going to|let me|you will receive|you'll receive|"
    r"I can (send|issue|schedule|process|set up)|I've (issued|scheduled|sent|processed|applied|set up)|"
    r"I have (issued|scheduled|sent|processed|applied|set up))\b",
    re.IGNORECASE,
)
OFFER_CUES = re.compile(
    r"\b(I can|we can|I will|I'll|we will|we'll|I've|I have|how about|would you like)\b", re.IGNORECASE
)
ACCEPTANCE = re.compile(
    r"^\W*(yes|yeah|yep|okay|ok|sure|sounds good|that works|that would be great|great|perfect|deal|agreed|"
    r"please do|let's do (it|that)|thank you)\b",
    re.IGNORECASE,
)
CUSTOMER_COMMITMENT = re.compile(r"\b(I will|I'll|I agree to|I promise to) (pay|send|call|make|sign|return)\b", re.I)
POLITE = re.compile(
    r"\b(thank you|thanks|sorry|apologi[sz]e|happy to help|glad to|my pleasure|you're welcome|"
    r"anything else|have a (great|good|nice) day|I understand)\b",
    re.IGNORECASE,
)
RUDE = re.compile(r"\b(not my problem|calm down|whatever|I don't care|you should have)\b", re.IGNORECASE)


@lru_cache(maxsize=1)
def _vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def _score(text: str, cues: list[tuple[re.Pattern[str], float]]) -> float:
    return sum(w * len(p.findall(text)) for p, w in cues)


def _role_turns(transcript: DiarizedTranscript, role: str) -> list[str]:
    return [s.text for s in transcript.segments if transcript.roles.get(s.speaker) == role]


# The priors below speak for a real exchange only; a few words decide nothing.
SUBSTANTIAL_WORDS = 30


def call_type(text: str, customer_sentiment: CustomerSentiment | None) -> CallType | None:
    scores = {t: _score(text, cues) for t, cues in CALL_TYPES.items()}
    if customer_sentiment != "negative":
        scores["complaint"] *= 0.5
    best = max(TYPE_PRIORITY, key=lambda t: (scores[t], -TYPE_PRIORITY.index(t)))
    # A service call that names no money, no sale, no cancellation and no grievance is support.
    if scores[best] >= 1.0:
        return best
    return "support" if len(text.split()) >= SUBSTANTIAL_WORDS else None


def call_outcome(
    text: str, closing: str, customer_sentiment: CustomerSentiment | None = None, two_sided: bool = True
) -> CallOutcome | None:
    """Escalated, unresolved and partial need evidence; a two-sided call with none of it, whose
    customer does not leave unhappy, ended the way most calls do: resolved."""
    scores = {o: _score(text, cues) for o, cues in OUTCOMES.items()}
    # How a call ends says most about how it went.
    for outcome, cues in OUTCOMES.items():
        scores[outcome] += _score(closing, cues)
    if scores["escalated"] >= 3.0:
        return "escalated"
    if scores["unresolved"] >= 2.0 and scores["unresolved"] >= scores["resolved"]:
        return "unresolved"
    if scores["partial"] >= 2.0 and scores["resolved"] > 0:
        return "partial"
    if scores["resolved"] >= 2.0:
        return "resolved"
    if scores["partial"] >= 2.0:
        return "partial"
    substantial = len(text.split()) >= SUBSTANTIAL_WORDS
    if substantial and two_sided and customer_sentiment != "negative" and scores["unresolved"] < 2.0:
        return "resolved"
    return None


def customer_sentiment(customer_turns: list[str]) -> CustomerSentiment | None:
    sentences = [s for t in customer_turns for s in money.split_sentences(t)]
    if not sentences:
        return None
    scores = [_vader().polarity_scores(s)["compound"] for s in sentences]
    # The end of the call counts double: it is how the customer leaves.
    tail = scores[-max(1, len(scores) // 3) :]
    mean = (sum(scores) + sum(tail)) / (len(scores) + len(tail))
    if mean >= 0.2:
        return "positive"
    if mean <= -0.15:
        return "negative"
    return "neutral"


Tone = Literal["positive", "neutral", "negative", "mixed"]
# A sentence this far from neutral (VADER's compound score) counts towards `mixed`.
CLEAR_TONE = 0.5


def sentence_tones(sentences: list[str]) -> list[float]:
    """VADER's compound score (-1 to 1) of each sentence."""
    return [_vader().polarity_scores(s)["compound"] for s in sentences]


def tone(scores: list[float]) -> Tone | None:
    """A stretch of talk's tone from its sentences' scores, with the thresholds customer sentiment
    uses; `mixed` when it holds a clearly positive and a clearly negative sentence."""
    if not scores:
        return None
    if max(scores) >= CLEAR_TONE and min(scores) <= -CLEAR_TONE:
        return "mixed"
    mean = sum(scores) / len(scores)
    if mean >= 0.2:
        return "positive"
    if mean <= -0.15:
        return "negative"
    return "neutral"


def agent_performance(agent_turns: list[str], outcome: CallOutcome | None) -> AgentPerformance | None:
    if not agent_turns:
        return None
    text = " ".join(agent_turns)
    polite = len(POLITE.findall(text))
    rude = len(RUDE.findall(text))
    tone = _vader().polarity_scores(text)["compound"]
    if rude or tone < -0.3:
        return "poor"
    if polite >= 3 and outcome == "resolved" and tone > 0.3:
        return "excellent"
    if polite >= 2 or outcome in ("resolved", "partial"):
        return "good"
    return "neutral"


def _sentences(turns: list[str], pattern: re.Pattern[str], limit: int) -> list[str]:
    out: list[str] = []
    for turn in turns:
        for sentence in money.split_sentences(turn):
            if pattern.search(sentence) and sentence not in out and len(sentence.split()) >= 4:
                out.append(sentence)
    return out[:limit]


def agreements(transcript: DiarizedTranscript) -> list[str]:
    """An agent's offer that the customer accepts in the next turn, and the customer's own promises."""
    out: list[str] = []
    segments = transcript.segments
    for i, segment in enumerate(segments):
        role = transcript.roles.get(segment.speaker)
        answered = i + 1 < len(segments) and transcript.roles.get(segments[i + 1].speaker) == CUSTOMER
        if role == AGENT and answered and ACCEPTANCE.search(segments[i + 1].text):
            offers = [s for s in money.split_sentences(segment.text) if OFFER_CUES.search(s)]
            if offers and offers[-1] not in out:
                out.append(offers[-1])
        if role == CUSTOMER:
            out.extend(s for s in money.split_sentences(segment.text) if CUSTOMER_COMMITMENT.search(s) and s not in out)
    return out[:6]


def _third_person(sentence: str, agent_name: str | None) -> str:
    who = agent_name or "The agent"
    sentence = re.sub(r"^(I will|I'll)\b", f"{who} will", sentence)
    sentence = re.sub(r"^(I've|I have)\b", f"{who} has", sentence)
    sentence = re.sub(r"^(I am going to|I'm going to)\b", f"{who} is going to", sentence)
    sentence = re.sub(r"\byour\b", "the customer's", sentence)
    return sentence


def _customer_voice(sentence: str) -> str:
    """A customer's first-person sentence, told about them."""
    replacements = [
        (r"^(Hi|Hello|Yes|Yeah|Well|So)\b[^.!?]*?,\s*", ""),
        (r"\bI'm\b", "they're"),
        (r"\bI am\b", "they are"),
        (r"\bI've\b", "they've"),
        (r"\bI\b", "they"),
        (r"\bmy\b", "their"),
        (r"\bme\b", "them"),
        (r"\b[Mm]y\b", "their"),
    ]
    for pattern, replacement in replacements:
        sentence = re.sub(pattern, replacement, sentence)
    return sentence


def summary(facts: CallFacts, agent_company: str | None, actions: list[str], customer_turns: list[str]) -> str | None:
    """Who called whom, why, what was done and how it ended, in the call's own words."""
    reason = facts.key_issues[0] if facts.key_issues else None
    if reason is None:
        said = [s for t in customer_turns for s in money.split_sentences(t) if len(s.split()) >= 5]
        reason = said[0] if said else None
    if reason is None and not actions:
        return None
    who = facts.customer.name or "The customer"
    if facts.customer.company:
        who += f" of {facts.customer.company}"
    callee = facts.agent.department or agent_company
    first = f"{who} called{f' {callee}' if callee else ''}"
    parts = [f"{first}; {_customer_voice(reason).rstrip('.')}." if reason else f"{first}."]
    done = [_third_person(a, facts.agent.name) for a in actions if re.match(r"^(I will|I'll|I've|I have|I am|I'm)", a)]
    if done:
        parts.append(" ".join(d if d.endswith((".", "!", "?")) else d + "." for d in done[:2]))
    if facts.call_outcome:
        parts.append(f"Outcome: {facts.call_outcome}.")
    return " ".join(parts)


def analyze(transcript: DiarizedTranscript, findings: list[Finding]) -> CallFacts:
    agent_turns = _role_turns(transcript, AGENT)
    customer_turns = _role_turns(transcript, CUSTOMER)
    agent_text, customer_text = " ".join(agent_turns), " ".join(customer_turns)
    full = transcript.text
    role_turns = [(transcript.roles.get(s.speaker, CUSTOMER), s.text) for s in transcript.segments]
    closing = " ".join(s.text for s in transcript.segments[-4:])

    sentiment_of_customer = customer_sentiment(customer_turns)
    outcome = call_outcome(full, closing, sentiment_of_customer, two_sided=bool(agent_turns and customer_turns))
    actions = _sentences(agent_turns, ACTION_CUES, 8)
    facts = CallFacts(
        call_type=call_type(full, sentiment_of_customer),
        call_outcome=outcome,
        customer=entities.extract_customer(customer_text, agent_text, role_turns),
        agent=entities.extract_agent(agent_text, role_turns),
        financial=money.extract_financial(role_turns, findings),
        compliance=Compliance(
            recording_disclosure=recording_disclosed(full, transcript),
            sensitive_data_shared=list(dict.fromkeys(f.description for f in findings)),
        ),
        sentiment=Sentiment(
            customer_sentiment=sentiment_of_customer,
            agent_performance=agent_performance(agent_turns, outcome),
        ),
        key_issues=_sentences(customer_turns, ISSUE_CUES, 5),
        action_items=actions,
        agreements=agreements(transcript),
    )
    facts.call_summary = summary(facts, entities.agent_company(agent_text), actions, customer_turns)
    return facts
