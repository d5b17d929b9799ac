"""Jokes the bot tells (the Joke intent): written for this project, short and family-friendly.

Each one fits a reply on X after "@username " (at most 240 characters, all of X weight 1).
"""

from __future__ import annotations

from typing import Final

JOKES: Final[tuple[str, ...]] = (
    "Why don't serverless functions ever get tired? They only wake up when someone calls them.",
    "Why did the bot refuse to play hide and seek? Every time it hid, somebody pinged it.",
    "I told my Wi-Fi we needed to talk. It said the connection just wasn't there any more.",
    "Why did the owl become a code reviewer? It never stops asking: who, who wrote this?",
    "My to-do list and I have an understanding: it keeps growing, and I keep admiring it.",
    "I tried to write a joke about recursion. To do that, I first had to write a joke about recursion.",
    "Why did the keyboard go to bed early? It had done a long day of shift work.",
    "Why did the photo ask the bot for advice? It wanted someone to recognise its potential.",
    "Why do sunflowers make great colleagues? They always turn towards the bright side.",
    "Why did the penguin wear a sweater to the meeting? It was told the meeting would start with an icebreaker.",
    "Why do mountains never get lost? They always take a peak at the map.",
    "Why did the hashtag take a day off? It was tired of always following the trend.",
    "My phone's battery and I have a lot in common: by mid-afternoon we both need a recharge.",
    "Why are comets so good at presentations? They always finish with a brilliant tail.",
    "Why did the octopus ace the typing test? Eight arms and zero excuses.",
    "Why is the kite always so calm? It knows how to stay above it all, as long as someone holds the string.",
    "Why did the developer bring a pillow to work? The project needed a REST API.",
    "Why don't trees enjoy social media? They're tired of being logged.",
    "Why did the river become a news presenter? It always kept up with current events.",
    "Why did the snowman apply for a job at the data centre? He heard they were looking for better cooling.",
    "Why did the tortoise win the coding contest? Slow and steady passes all the tests.",
    "Why do astronauts make brilliant party hosts? They always make space for everyone.",
    "Why did the email go to the gym? It wanted to lose the weight of all those attachments.",
    "Why did the password take up weightlifting? It was told to get stronger, with at least one number.",
    "What did the router say at the party? \"Don't mind me, I'm just here to make connections.\"",
    "Why is the lighthouse always in a good mood? It beams at everyone who passes by.",
    "My alarm clock and I had a falling-out. It keeps bringing up the same thing every morning.",
    "Why did the pixel go to art school? It wanted to be part of the bigger picture.",
    "Why did the calculator stay calm during the exam? It knew it could always count on itself.",
    "Why did the robot go on holiday? It needed to recharge its batteries and reboot its sense of humour.",
    "Why did the cloud break up with the fog? It needed someone with a clearer outlook.",
    "Why did the map app refuse to argue? It didn't want the conversation to take a wrong turn.",
    "Why did the bee join the choir? It already knew all the hums.",
    "Why did the battery bring a blanket to the picnic? It didn't want to lose its charge in the shade.",
)
