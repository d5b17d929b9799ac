"""What the bot says for small talk, when it did not understand, and to a negative message, in each
locale of the bot definition (chalicelib.contracts.conversation): written for this project.

Jokes and facts (jokes.py, facts.py) are told in English in every locale; the help answers say
so. Every answer fits a reply on X after "@username " (at most 240 characters, no emoji or CJK:
every character weighs 1). The Stop answers confirm the opt-out, and say how to undo it: "start",
the command the opt-out rule knows in every language (responding/optout.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from chalicelib.contracts import conversation as c

_EN: Final[Mapping[str, tuple[str, ...]]] = {
    c.GREETING_NAME: (
        "Hi there! Ask me for a joke or a fun fact, or send me a photo.",
        "Hello! Nice to see you. Want a joke, or a fact you can show off with?",
        "Hey! I'm here. A joke, a fact, or a photo for me to look at?",
        'Good to hear from you! Say "joke" or "fact" and I\'ll get going.',
        "Hi! Hope your day is going well. What can I do for you?",
        "Hey hey! Ready when you are: jokes, facts, and photos are my thing.",
    ),
    c.THANKS_NAME: (
        "You're welcome!",
        "Any time! Glad it helped.",
        "My pleasure. Come back for another one whenever you like.",
        "No problem at all!",
        "Happy to help. That's what I'm here for.",
        "You're very welcome. Thanks for talking to me!",
    ),
    c.HELP_NAME: (
        'I tell jokes ("tell me a joke"), share facts ("tell me a fact") and say what I see in '
        'photos you send me. Reply "stop" and I\'ll leave you alone.',
        "Here's what I can do: jokes, fun facts, and a look at your photos (I name famous faces and "
        "say what's in the picture). Just ask!",
        'Try "tell me a joke", "give me a fun fact", or mention me with a photo. Say "stop" any time '
        "and I won't reply any more.",
        "Ask me for a joke or a fact, or send a photo and I'll describe it. That's the whole menu!",
        "I'm a small bot with three tricks: jokes, facts, and describing photos. Which one would you like?",
    ),
    c.WHO_ARE_YOU_NAME: (
        "I'm a bot: a small program that answers mentions with jokes, facts and a look at your photos.",
        "Just a friendly bot, not a person. I run in the cloud and read the posts that mention me.",
        "I'm an automated account. I tell jokes, share facts and say what I see in photos.",
        "A bot, through and through! Someone built me to answer mentions here. Ask me for a joke.",
        "I'm not human, I'm a bot that reads its mentions and tries to answer them well.",
    ),
    c.COMPLIMENT_NAME: (
        "Aw, thank you! You just made my circuits glow.",
        "That's very kind of you. You're pretty great yourself!",
        "Thanks! I'll be talking about this for the rest of my uptime.",
        "You're too kind. Want a joke as a thank-you?",
        "That means a lot to a small bot. Thank you!",
        "Right back at you!",
    ),
    c.STOP_NAME: (
        "Do you want me to stop replying to you? Reply with just 'stop' and I won't answer you again.",
        "Should I leave you alone? Send 'stop' on its own and I'll stop replying to you.",
        "If you'd like no more replies from me, reply 'stop' (just that word).",
    ),
    c.FALLBACK_INTENT: (
        c.FALLBACK_MESSAGE,
        "Sorry, I didn't get that. Ask me for a joke or a fact, or send me a photo.",
        "Hmm, that one went over my head. I'm best at jokes, facts and photos!",
        'I\'m not sure what you mean. Try "help" to see what I can do.',
    ),
}

_ES: Final[Mapping[str, tuple[str, ...]]] = {
    c.GREETING_NAME: (
        "¡Hola! Mándame una foto y te digo qué veo en ella.",
        "¡Buenas! Me alegra verte por aquí. ¿En qué te ayudo?",
        '¡Hola, hola! Escribe "ayuda" para ver lo que sé hacer.',
        "¡Hola! Espero que tengas un buen día. ¿Qué te apetece?",
        "¡Saludos! Aquí estoy, listo para charlar un rato.",
    ),
    c.THANKS_NAME: (
        "¡De nada!",
        "¡Un placer! Aquí estoy para lo que necesites.",
        "¡No hay de qué!",
        "Gracias a ti por escribirme.",
        "¡Encantado de ayudar!",
    ),
    c.HELP_NAME: (
        "Cuento chistes y datos curiosos (en inglés) y miro tus fotos: nombro caras famosas y digo qué "
        'hay en ellas. Prueba "cuéntame un chiste".',
        "Mándame una foto y te digo qué veo. Si quieres un chiste o un dato curioso, pídemelo: te lo cuento en inglés.",
        'Puedo describir fotos, y contar chistes y datos curiosos en inglés. Escribe "stop" y no te responderé más.',
        "Soy un bot sencillo: fotos, saludos, y chistes y datos en inglés. ¿Probamos?",
    ),
    c.WHO_ARE_YOU_NAME: (
        "Soy un bot: un pequeño programa que responde a las menciones.",
        "No soy una persona, soy un bot. Leo las menciones y trato de responder bien.",
        "Un bot simpático que cuenta chistes, comparte datos y mira tus fotos.",
        "Soy una cuenta automática. Nadie escribe estas respuestas a mano.",
    ),
    c.COMPLIMENT_NAME: (
        "¡Gracias! Me has alegrado el día.",
        "¡Qué amable! Tú también eres genial.",
        "Muchas gracias, eso anima a cualquier bot.",
        "¡Me sonrojo! Si pudiera, claro.",
        "¡Gracias! Igualmente.",
    ),
    c.STOP_NAME: (
        "¿Quieres que deje de responderte? Responde solo 'stop' y no te contestaré más.",
        "¿Te dejo en paz? Envía 'stop', sin más, y dejaré de responderte.",
        "Si no quieres más respuestas mías, responde 'stop' (solo esa palabra).",
    ),
    c.FALLBACK_INTENT: (
        c.locale(c.ES_ES).fallback_message,
        'Perdona, no te he entendido. Escribe "ayuda" para ver lo que sé hacer.',
        "Hmm, eso no lo sé hacer. Mándame una foto, o pídeme un chiste.",
        "No estoy seguro de qué quieres decir. Soy mejor con fotos, chistes y datos curiosos.",
    ),
}

_FR: Final[Mapping[str, tuple[str, ...]]] = {
    c.GREETING_NAME: (
        "Salut ! Envoie-moi une photo et je te dis ce que j'y vois.",
        "Bonjour ! Content de te voir. Je peux t'aider ?",
        'Coucou ! Écris "aide" pour voir ce que je sais faire.',
        "Salut ! J'espère que ta journée se passe bien. Je peux faire quelque chose pour toi ?",
        "Bonjour à toi ! Je suis là, prêt à discuter.",
    ),
    c.THANKS_NAME: (
        "De rien !",
        "Avec plaisir ! Je suis là quand tu veux.",
        "Je t'en prie !",
        "Merci à toi de m'écrire.",
        "Ravi d'avoir aidé !",
    ),
    c.HELP_NAME: (
        "Je raconte des blagues et des anecdotes (en anglais) et je regarde tes photos : je nomme les "
        'visages connus et je dis ce qu\'il y a dessus. Essaie "raconte-moi une blague".',
        "Envoie-moi une photo et je te dis ce que j'y vois. Pour une blague ou une anecdote, demande-la "
        "moi : je la raconte en anglais.",
        'Je décris les photos, et je raconte blagues et anecdotes en anglais. Écris "stop" et je ne te répondrai plus.',
        "Je suis un petit bot : photos, salutations, et blagues ou anecdotes en anglais. On essaie ?",
    ),
    c.WHO_ARE_YOU_NAME: (
        "Je suis un bot : un petit programme qui répond aux mentions.",
        "Pas une personne, un bot ! Je lis mes mentions et j'essaie d'y répondre.",
        "Un bot sympa qui raconte des blagues, partage des anecdotes et regarde tes photos.",
        "Je suis un compte automatique. Personne n'écrit ces réponses à la main.",
    ),
    c.COMPLIMENT_NAME: (
        "Merci ! Tu as illuminé ma journée.",
        "Trop gentil ! Toi aussi, tu es génial.",
        "Merci beaucoup, ça fait plaisir à un petit bot.",
        "Je rougirais si je pouvais !",
        "Merci ! Pareil pour toi.",
    ),
    c.STOP_NAME: (
        "Tu veux que j'arrête de te répondre ? Réponds juste 'stop' et je ne te répondrai plus.",
        "Je te laisse tranquille ? Envoie 'stop', tout seul, et j'arrête de te répondre.",
        "Si tu ne veux plus de réponses de ma part, réponds 'stop' (ce mot seulement).",
    ),
    c.FALLBACK_INTENT: (
        c.locale(c.FR_FR).fallback_message,
        'Désolé, je n\'ai pas compris. Écris "aide" pour voir ce que je sais faire.',
        "Hmm, ça je ne sais pas faire. Envoie-moi une photo, ou demande-moi une blague.",
        "Je ne suis pas sûr de comprendre. Je suis meilleur avec les photos, les blagues et les anecdotes.",
    ),
}

_DE: Final[Mapping[str, tuple[str, ...]]] = {
    c.GREETING_NAME: (
        "Hallo! Schick mir ein Foto und ich sage dir, was ich darauf sehe.",
        "Hi! Schön, dass du da bist. Wie kann ich helfen?",
        'Servus! Schreib "Hilfe", und ich sage dir, was ich kann.',
        "Hallo! Ich hoffe, du hast einen guten Tag. Was kann ich für dich tun?",
        "Moin! Ich bin da und bereit für ein kleines Gespräch.",
    ),
    c.THANKS_NAME: (
        "Gern geschehen!",
        "Sehr gerne! Ich bin da, wenn du mich brauchst.",
        "Keine Ursache!",
        "Danke dir fürs Schreiben.",
        "Freut mich, dass ich helfen konnte!",
    ),
    c.HELP_NAME: (
        "Ich erzähle Witze und Fakten (auf Englisch) und schaue mir deine Fotos an: Ich erkenne "
        'bekannte Gesichter und sage, was darauf ist. Probier "erzähl mir einen Witz".',
        "Schick mir ein Foto und ich sage dir, was ich sehe. Für einen Witz oder einen Fakt frag "
        "einfach: Ich erzähle ihn auf Englisch.",
        'Ich beschreibe Fotos und erzähle Witze und Fakten auf Englisch. Schreib "stop", und ich '
        "antworte dir nicht mehr.",
        "Ich bin ein kleiner Bot: Fotos, Grüße, und Witze oder Fakten auf Englisch. Probieren wir's?",
    ),
    c.WHO_ARE_YOU_NAME: (
        "Ich bin ein Bot: ein kleines Programm, das auf Erwähnungen antwortet.",
        "Kein Mensch, ein Bot! Ich lese meine Erwähnungen und versuche, gut zu antworten.",
        "Ein freundlicher Bot, der Witze erzählt, Fakten teilt und sich deine Fotos ansieht.",
        "Ich bin ein automatischer Account. Niemand schreibt diese Antworten von Hand.",
    ),
    c.COMPLIMENT_NAME: (
        "Danke! Du hast meinen Tag gerettet.",
        "Wie nett! Du bist auch toll.",
        "Vielen Dank, das freut einen kleinen Bot sehr.",
        "Ich würde rot werden, wenn ich könnte!",
        "Danke! Gleichfalls.",
    ),
    c.STOP_NAME: (
        "Soll ich dir nicht mehr antworten? Antworte nur mit 'stop', dann schreibe ich dir nicht mehr.",
        "Soll ich dich in Ruhe lassen? Schick einfach 'stop', und ich höre auf, dir zu antworten.",
        "Wenn du keine Antworten mehr von mir willst, antworte mit 'stop' (nur dieses Wort).",
    ),
    c.FALLBACK_INTENT: (
        c.locale(c.DE_DE).fallback_message,
        'Entschuldige, das habe ich nicht verstanden. Schreib "Hilfe", und ich sage dir, was ich kann.',
        "Hmm, das kann ich nicht. Schick mir ein Foto, oder frag mich nach einem Witz.",
        "Ich bin nicht sicher, was du meinst. Am besten kann ich Fotos, Witze und Fakten.",
    ),
}

#: Locale id -> intent name -> what the bot may answer (Joke and Fact: jokes.py and facts.py).
ANSWERS: Final[Mapping[str, Mapping[str, tuple[str, ...]]]] = {
    c.EN_US: _EN,
    c.ES_ES: _ES,
    c.FR_FR: _FR,
    c.DE_DE: _DE,
}

#: What a negative message gets instead of a joke or a fact (NEGATIVE_REPLIES=calm): no humour, no
#: argument, a way out. Per locale; any other language gets English.
CALM: Final[Mapping[str, tuple[str, ...]]] = {
    c.EN_US: (
        "Sorry to hear that. I'm only a bot, but I'm listening.",
        "That sounds frustrating. If I got something wrong, I'm sorry.",
        'I hear you. Reply "stop" if you\'d like me to leave you alone.',
        "Sorry things aren't going well. I hope the rest of your day is better.",
        "Fair enough. I'll keep it short: I'm sorry, and I'm here if you need me.",
        'Noted, and sorry. Say "stop" any time and I won\'t reply any more.',
    ),
    c.ES_ES: (
        "Siento oír eso. Solo soy un bot, pero te escucho.",
        "Suena frustrante. Si me he equivocado, lo siento.",
        'Te entiendo. Escribe "stop" si prefieres que no te responda más.',
        "Siento que las cosas no vayan bien. Ojalá el resto del día sea mejor.",
        "Entendido, y lo siento. Aquí estoy si me necesitas.",
    ),
    c.FR_FR: (
        "Désolé d'entendre ça. Je ne suis qu'un bot, mais je t'écoute.",
        "Ça a l'air frustrant. Si je me suis trompé, je m'en excuse.",
        'Je comprends. Écris "stop" si tu préfères que je ne réponde plus.',
        "Désolé que ça n'aille pas. J'espère que la suite de ta journée sera meilleure.",
        "Compris, et désolé. Je suis là si tu as besoin.",
    ),
    c.DE_DE: (
        "Das tut mir leid. Ich bin nur ein Bot, aber ich höre zu.",
        "Das klingt ärgerlich. Falls ich etwas falsch gemacht habe, tut es mir leid.",
        'Verstehe. Schreib "stop", wenn ich dir nicht mehr antworten soll.',
        "Schade, dass es gerade nicht gut läuft. Ich hoffe, der Rest des Tages wird besser.",
        "Verstanden, und sorry. Ich bin da, wenn du mich brauchst.",
    ),
}


def answers_for(locale_id: str, intent: str) -> tuple[str, ...]:
    """The answers to `intent` in the locale (English for a locale the bot lacks); the locale's
    fallback answers for an intent it has no answers to."""
    answers = ANSWERS.get(locale_id, ANSWERS[c.DEFAULT_LOCALE_ID])
    return answers.get(intent) or answers[c.FALLBACK_INTENT]


def calm_answers(locale_id: str) -> tuple[str, ...]:
    """The calm answers in the locale (English for a locale the bot lacks)."""
    return CALM.get(locale_id, CALM[c.DEFAULT_LOCALE_ID])
