"""What supervisors ask of calls: categories (named sets of rules a call matches or not) and QA
scorecards (weighted questions answered yes, no or not applicable), evaluated on a finished call's
result, so that they can be run again on old calls without transcribing them again."""
