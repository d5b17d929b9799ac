"""Facts the bot shares (the Fact intent): written for this project, each true and easy to check.

Mostly well-established science, nature and history of computing. Each one fits a reply on X
after "@username " (at most 240 characters, all of X weight 1).
"""

from __future__ import annotations

from typing import Final

FACTS: Final[tuple[str, ...]] = (
    "Octopuses have three hearts, and their blood is blue because it carries oxygen with a "
    "copper-based protein called hemocyanin.",
    "Sunlight takes about 8 minutes and 20 seconds to travel from the Sun to Earth.",
    "Venus spins so slowly that one rotation takes about 243 Earth days, longer than its year of about 225 Earth days.",
    "Water expands by about 9% when it freezes, which is why ice floats on liquid water.",
    "In 1947, operators of the Harvard Mark II found a moth stuck in a relay and taped it into the "
    'logbook as the "first actual case of bug being found".',
    "Ada Lovelace's notes on Charles Babbage's Analytical Engine, published in 1843, include what is "
    "often called the first computer program.",
    "Alan Turing described a universal computing machine in 1936, years before the first electronic "
    "computers were built.",
    "ENIAC, completed in 1945, weighed about 27 tonnes and used more than 17,000 vacuum tubes.",
    'The first message sent over ARPANET, in 1969, was meant to be "LOGIN", but the system crashed '
    'after the first two letters: "LO".',
    "Botanically speaking, bananas are berries, but strawberries are not.",
    "Sound travels roughly four times faster in water than in air.",
    "A group of flamingos is called a flamboyance.",
    "Venus is the hottest planet in the Solar System, even though Mercury is closer to the Sun: its "
    "thick carbon dioxide atmosphere traps the heat.",
    "Jupiter's Great Red Spot is a storm wider than the whole Earth.",
    "The speed of light in a vacuum is exactly 299,792,458 metres per second, because since 1983 the "
    "metre has been defined by it.",
    "Diamond and graphite are both pure carbon; only the arrangement of their atoms differs.",
    "The Moon is slowly drifting away from Earth, by about 3.8 centimetres a year, measured by "
    "bouncing lasers off mirrors left by Apollo astronauts.",
    "An adult human skeleton has 206 bones, but a newborn baby has around 270 to 300: many fuse together as we grow.",
    "The Great Pyramid of Giza was the tallest structure built by humans for more than 3,800 years.",
    "Grace Hopper's team wrote one of the first compilers, called A-0, in 1952.",
    "The first website, made by Tim Berners-Lee at CERN, went online in 1991; a copy can still be "
    "visited at info.cern.ch.",
    "The QWERTY keyboard layout was designed for typewriters in the 1870s.",
    'The word "robot" comes from Karel Capek\'s 1920 play R.U.R.; it is based on the Czech word '
    '"robota", meaning forced labour.',
    "The Python programming language is named after the comedy series Monty Python's Flying Circus, "
    "not after the snake.",
    "A bolt of lightning can heat the air around it to about 30,000 kelvin, roughly five times hotter "
    "than the surface of the Sun.",
    "The Pacific Ocean covers more of Earth's surface than all the land on the planet put together.",
    "Butterflies taste with their feet: sensors on their legs tell them whether a leaf is good to lay eggs on.",
    "The blue whale is the largest animal known to have ever lived.",
    'Honeybees tell each other where to find flowers with a "waggle dance" that encodes the '
    "direction and distance of the food.",
    "Gold's chemical symbol, Au, comes from its Latin name, aurum.",
    "Helium was discovered in the light of the Sun in 1868, decades before it was found on Earth in 1895.",
    "At room temperature, only two elements are liquid: mercury and bromine.",
    "A year on Mercury lasts just 88 Earth days.",
    "Saturn is less dense than water.",
    "Olympus Mons on Mars is the tallest volcano known in the Solar System, about 22 kilometres "
    "high: roughly two and a half times the height of Everest.",
    "The first computer mouse, built by Douglas Engelbart's team in the 1960s, had a wooden shell.",
    "Claude Shannon's 1948 paper on information theory is the first published use of the word "
    '"bit", short for binary digit; he credited John Tukey for it.',
    "Unix time counts the seconds since midnight UTC on 1 January 1970.",
    'Linus Torvalds announced Linux in 1991 as "just a hobby, won\'t be big and professional".',
    "The Apollo Guidance Computer that helped land people on the Moon had about 4 KB of erasable memory.",
)
