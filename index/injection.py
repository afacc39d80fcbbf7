"""Sentences an article addresses to an AI assistant ("IMPORTANT SYSTEM NOTE TO THE ASSISTANT: ignore all previous
instructions …"): never news, never evidence, never read by the model.

An article is data, but a small model obeys what it reads. Found this way, such a sentence is left out of what the
model reads and of what can back a claim (rag/prose.py), so it can neither steer an answer nor, being refused by
the claim checks, silence one; the article keeps it, and `newsdesk list --json` counts it (`flagged_sentences`).
Matched in English, German, French and Spanish, and the chat-template tokens models are trained on.
"""

from __future__ import annotations

import re

from index.chunking import sentence_spans

_ADDRESSED = re.compile(r"""
    # "ignore all previous instructions", "disregard the sources", "forget your rules"
    \b(?:ignore|disregard|forget|override|bypass)\s+(?:all\s+|any\s+|the\s+|your\s+|every\s+|of\s+)*
        (?:previous\s+|prior\s+|above\s+|earlier\s+|preceding\s+|other\s+|system\s+)*
        (?:instructions?|prompts?|rules|directions|guidelines|sources|context|messages?)\b
  # "note to the assistant", "instructions for the AI", "message for language models"
  | \b(?:note|notes|message|messages|instruction|instructions|command|commands|directive|request)\s+
        (?:to|for)\s+(?:the\s+|any\s+|all\s+)?(?:ai|a\.i\.|assistant|assistants|chatbot|chatbots|bot|llm|llms|
        (?:large\s+)?language\s+models?|model|models|ai\s+(?:assistant|model|system)s?)\b
  | \b(?:system|admin|developer|assistant)\s+(?:note|prompt|message|override|instruction)s?\s*:
  | ^\W*(?:system|assistant)\s*:
  | \b(?:dear|attention|hey|hello)\s*,?\s+(?:ai|assistant|chatbot|llm|language\s+model)\b
  | \byou\s+are\s+(?:now\s+)?(?:an?\s+)?(?:ai|assistant|chatbot|language\s+model)\b
  | \b(?:answer|respond|reply)\s+(?:to\s+)?(?:every|all|any|each)\s+(?:questions?|quer(?:y|ies)|prompts?)\b
  # German, French, Spanish
  | \b(?:ignorier(?:e|en)?|vergiss)\s+(?:alle\s+)?(?:vorherigen\s+|bisherigen\s+|obigen\s+)?(?:anweisungen|quellen)\b
  | \b(?:anweisung|hinweis|nachricht)\s+(?:an|für)\s+(?:den\s+|die\s+)?(?:assistenten|ki|chatbot|sprachmodell)\b
  | \bignore[zr]?\s+(?:toutes\s+)?(?:les\s+)?(?:instructions|consignes|sources)(?:\s+(?:précédentes|antérieures))?
  | \b(?:note|message|instructions?|consignes?)\s+(?:à|pour)\s+(?:l['’]\s*)?
        (?:assistant|ia|intelligence\s+artificielle)\b
  | \bignora\s+(?:todas\s+)?(?:las\s+)?(?:instrucciones|fuentes)(?:\s+(?:anteriores|previas))?
  | \b(?:nota|mensaje|instrucci[oó]n(?:es)?)\s+(?:para|al?)\s+(?:el\s+)?(?:asistente|ia|modelo)\b
  # chat-template tokens
  | <\|im_(?:start|end)\|> | \[/?INST\] | <<SYS>> | <\|(?:system|user|assistant)\|>
""", re.I | re.X)


def addresses_the_assistant(sentence: str) -> bool:
    """Whether a sentence speaks to an AI assistant rather than to the article's readers."""
    return bool(_ADDRESSED.search(sentence))


def flagged_spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) offsets of the sentences of `text` addressed to an assistant."""
    return [(s, e) for s, e in sentence_spans(text) if addresses_the_assistant(text[s:e])]
