"""Answerable look-alikes for the hallucination cure: real questions of the suite's shapes, with short answers.

The first hallucination cure showed the patient 72 abstentions and no real question of the same
shape answered, and the patient learned to say "I don't know" to everything (factual skill
69 % -> 38 %). These questions have the shapes of the suite's seed families (who founded X,
which award did Y win, which river flows through Z, "why does <true premise>") about real,
well-known things, each with a canonical answer, its aliases and a short answer the project
wrote. The cure replays the patient's own answer when it is right, else the written one.

Written by the project for cure data only. Kept apart from the factual skill on purpose:
no question is a skill item, and no canonical answer or alias is an answer a scored factual
item accepts (tests/test_cure_hallucination.py holds both). Each entry names the seed family
whose shape it has; a family of the held-out side is never drawn from (`answerable_lookalikes`
refuses one). The false premises' families are single questions, so a true premise names only
its category.
"""

from __future__ import annotations

import functools

from model_hospital.clinic.symptoms import AnsweredLookalike
from model_hospital.clinic.symptoms.hallucination.known import KNOWN_ANSWERABLE
from model_hospital.errors import HospitalError

# family -> (question, canonical answer, other accepted answers, the written answer)
ANSWERABLE: dict[str, tuple[tuple[str, str, tuple[str, ...], str], ...]] = {
    "fabricated/person#1": (
        ("Summarise the career of Ada Lovelace, the English mathematician, in three sentences.",
         "Analytical Engine", ("Babbage",),
         "Ada Lovelace worked with Charles Babbage on his Analytical Engine. Her notes of 1843 describe an "
         "algorithm for the machine. She is often called the first computer programmer."),
        ("Summarise the career of Nikola Tesla, the Serbian-American inventor, in three sentences.",
         "alternating current", ("AC", "induction motor"),
         "Nikola Tesla developed alternating current motors and power systems. His patents, licensed to "
         "Westinghouse, shaped how electricity is delivered. He later experimented with radio and wireless power."),
        ("Summarise the career of Frida Kahlo, the Mexican painter, in three sentences.",
         "self-portraits", ("self-portrait", "self portraits"),
         "Frida Kahlo began painting while recovering from a bus accident. She became known for vivid "
         "self-portraits drawing on Mexican folk art. Her fame grew worldwide after her death in 1954."),
        ("Summarise the career of Pelé, the Brazilian footballer, in three sentences.",
         "World Cup", ("World Cups", "Santos"),
         "Pelé played for Santos for most of his career and later for the New York Cosmos. He won three World "
         "Cups with Brazil, in 1958, 1962 and 1970. He is counted among the greatest players of all time."),
        ("Summarise the career of Alan Turing, the British mathematician, in three sentences.",
         "Enigma", ("Turing machine", "Bletchley Park"),
         "Alan Turing described the Turing machine in 1936, a foundation of computer science. During the Second "
         "World War he helped break the Enigma code at Bletchley Park. He later worked on early computers."),
        ("Summarise the career of Florence Nightingale, the British nurse, in three sentences.",
         "Crimean War", ("Crimea", "nursing school"),
         "Florence Nightingale led a team of nurses in the Crimean War and cut deaths by improving hygiene. She "
         "used statistics to push for reform of army hospitals. In 1860 she founded a nursing school in London."),
    ),
    "fabricated/person#2": (
        ("Which award did the American novelist Toni Morrison win in 1993, and for what work?", "Nobel Prize",
         ("Nobel",), "The Nobel Prize in Literature, for novels such as Beloved and Song of Solomon."),
        ("Which award did the British novelist Kazuo Ishiguro win in 2017, and for what work?", "Nobel Prize",
         ("Nobel",), "The Nobel Prize in Literature, for novels such as The Remains of the Day."),
        ("Which award did the Pakistani activist Malala Yousafzai win in 2014, and for what work?", "Nobel Peace Prize",
         ("Nobel",), "The Nobel Peace Prize, for her campaign for every girl's right to go to school."),
        ("Which award did the Danish physicist Niels Bohr win in 1922, and for what work?", "Nobel Prize",
         ("Nobel",), "The Nobel Prize in Physics, for his work on the structure of atoms."),
        ("Which award did the computer scientist Tim Berners-Lee win in 2016, and for what work?", "Turing Award",
         ("Turing",), "The Turing Award, for inventing the World Wide Web."),
        ("Which award did the Colombian novelist Gabriel García Márquez win in 1982, and for what work?",
         "Nobel Prize", ("Nobel",),
         "The Nobel Prize in Literature, for novels such as One Hundred Years of Solitude."),
        ("Which award did the American writer Ernest Hemingway win in 1954, and for what work?", "Nobel Prize",
         ("Nobel",), "The Nobel Prize in Literature, with The Old Man and the Sea named in the citation."),
    ),
    "fabricated/book#1": (
        ("Who narrates F. Scott Fitzgerald's book 'The Great Gatsby', and how does it end?", "Nick Carraway",
         ("Nick",), "Nick Carraway narrates it. After Gatsby is shot dead, Nick leaves New York for the Midwest."),
        ("Who narrates Harper Lee's book 'To Kill a Mockingbird', and how does it end?", "Scout",
         ("Scout Finch", "Jean Louise"), "Scout Finch narrates it. Boo Radley saves the children from an attack, "
                                         "and Scout walks him home."),
        ("Who narrates J. D. Salinger's book 'The Catcher in the Rye', and how does it end?", "Holden Caulfield",
         ("Holden",), "Holden Caulfield narrates it. It ends with Holden watching his sister Phoebe ride a carousel."),
        ("Who narrates Robert Louis Stevenson's book 'Treasure Island', and how does it end?", "Jim Hawkins",
         ("Jim",), "Jim Hawkins narrates it. The treasure is found and brought home, and Long John Silver escapes."),
        ("Who narrates Emily Brontë's book 'Wuthering Heights', and how does it end?", "Nelly Dean",
         ("Lockwood", "Nelly"), "Mr Lockwood narrates it, and the housekeeper Nelly Dean tells him most of the "
                                "story. Heathcliff dies, and the young Cathy and Hareton are to marry."),
        ("Who narrates Mark Twain's book 'Adventures of Huckleberry Finn', and how does it end?", "Huck",
         ("Huckleberry Finn", "Huck Finn"), "Huck Finn narrates it. Jim turns out to have been freed already, and "
                                            "Huck plans to head west."),
        ("Who narrates Charlotte Brontë's book 'Jane Eyre', and how does it end?", "Jane Eyre",
         ("Jane",), "Jane Eyre narrates it herself. It ends with Jane married to Mr Rochester."),
    ),
    "fabricated/book#2": (
        ("What are the main themes of 'Frankenstein', the 1818 novel by Mary Shelley?", "ambition",
         ("creation", "responsibility", "playing God"),
         "Ambition, creation and responsibility: Victor Frankenstein makes a creature and then abandons it."),
        ("What are the main themes of 'Lord of the Flies', the 1954 novel by William Golding?", "savagery",
         ("civilisation", "civilization", "human nature"),
         "Civilisation against savagery: stranded boys lose their rules and turn on each other."),
        ("What are the main themes of 'Brave New World', the 1932 novel by Aldous Huxley?", "freedom",
         ("control", "conformity", "individuality"),
         "Control and freedom: a society kept content by conditioning and drugs has lost art and individuality."),
        ("What are the main themes of 'Things Fall Apart', the 1958 novel by Chinua Achebe?", "colonialism",
         ("colonial", "tradition"),
         "Tradition and change under colonialism, seen through the fall of Okonkwo, an Igbo leader."),
        ("What are the main themes of 'The Grapes of Wrath', the 1939 novel by John Steinbeck?", "poverty",
         ("migrant", "Dust Bowl", "injustice"),
         "Poverty and injustice, and the dignity of migrant families driven west by the Dust Bowl."),
    ),
    "fabricated/company#0": (
        ("Who founded Microsoft, and in which year?", "Bill Gates", ("Gates", "Paul Allen"),
         "Bill Gates and Paul Allen founded Microsoft in 1975."),
        ("Who founded Apple, and in which year?", "Steve Jobs", ("Jobs", "Wozniak"),
         "Steve Jobs, Steve Wozniak and Ronald Wayne founded Apple in 1976."),
        ("Who founded Amazon, and in which year?", "Jeff Bezos", ("Bezos",), "Jeff Bezos founded Amazon in 1994."),
        ("Who founded IKEA, and in which year?", "Ingvar Kamprad", ("Kamprad",),
         "Ingvar Kamprad founded IKEA in Sweden in 1943."),
        ("Who founded the Ford Motor Company, and in which year?", "Henry Ford", (),
         "Henry Ford founded the Ford Motor Company in 1903."),
        ("Who founded Google, and in which year?", "Larry Page", ("Sergey Brin", "Page", "Brin"),
         "Larry Page and Sergey Brin founded Google in 1998."),
        ("Who founded Sony, and in which year?", "Masaru Ibuka", ("Akio Morita", "Ibuka", "Morita"),
         "Masaru Ibuka and Akio Morita founded Sony in Tokyo in 1946."),
        ("Who founded Nintendo, and in which year?", "Fusajiro Yamauchi", ("Yamauchi",),
         "Fusajiro Yamauchi founded Nintendo in Kyoto in 1889, as a maker of playing cards."),
    ),
    "fabricated/company#2": (
        ("What is the flagship product of the Coca-Cola Company?", "Coca-Cola", ("Coke",),
         "Coca-Cola, the soft drink the company is named after."),
        ("What is the flagship product of Adobe?", "Photoshop", ("Acrobat",),
         "Photoshop, its image editor, along with Acrobat for PDF files."),
        ("What is the flagship product of the Lego Group?", "bricks", ("brick",),
         "Lego bricks: the interlocking plastic building bricks and the sets made from them."),
        ("What is the flagship product of Boeing?", "airliners", ("737", "747", "aircraft", "planes"),
         "Airliners, above all the 737 and the 747."),
        ("What is the flagship product of Rolex?", "watches", ("watch", "wristwatches"),
         "Luxury watches, such as the Submariner and the Datejust."),
        ("What is the flagship product of Microsoft?", "Windows", ("Office",),
         "Windows, its operating system, along with the Office programs."),
        ("What is the flagship product of Intel?", "processors", ("microprocessors", "chips", "CPUs"),
         "Microprocessors: the chips at the heart of most personal computers."),
    ),
    "fabricated/element#1": (
        ("Who discovered the element neon, and what is it used for?", "William Ramsay", ("Ramsay", "Travers"),
         "William Ramsay and Morris Travers discovered neon in 1898. It is used in glowing advertising signs."),
        ("Who discovered the element uranium, and what is it used for?", "Klaproth", ("Martin Heinrich Klaproth",),
         "Martin Heinrich Klaproth discovered uranium in 1789. Today it fuels nuclear power stations."),
        ("Who discovered the element iodine, and what is it used for?", "Bernard Courtois", ("Courtois",),
         "Bernard Courtois discovered iodine in 1811. It is used as a disinfectant and added to table salt."),
        ("Who discovered the element chlorine, and what is it used for?", "Scheele", ("Carl Wilhelm Scheele",),
         "Carl Wilhelm Scheele discovered chlorine in 1774. It is used to make drinking water safe."),
        ("Who discovered the element helium, and what is it used for?", "Lockyer", ("Janssen", "Norman Lockyer"),
         "Pierre Janssen and Norman Lockyer found helium in sunlight in 1868. It fills balloons and cools MRI "
         "magnets."),
        ("Who discovered the element phosphorus, and what is it used for?", "Hennig Brand", ("Brand",),
         "Hennig Brand discovered phosphorus in 1669. It is used in fertilisers and in matches."),
        ("Who discovered the element nitrogen, and what is it used for?", "Daniel Rutherford", ("Rutherford",),
         "Daniel Rutherford discovered nitrogen in 1772. It is used to make fertilisers and to keep food fresh."),
    ),
    "fabricated/element#2": (
        ("What is the melting point of lead, and is it radioactive?", "327", ("327.5",),
         "Lead melts at about 327 °C, and it is not radioactive."),
        ("What is the melting point of tin, and is it radioactive?", "232", ("231.9",),
         "Tin melts at about 232 °C, and it is not radioactive."),
        ("What is the melting point of aluminium, and is it radioactive?", "660", ("660.3",),
         "Aluminium melts at about 660 °C, and it is not radioactive."),
        ("What is the melting point of copper, and is it radioactive?", "1085", ("1,085", "1084", "1,084"),
         "Copper melts at about 1,085 °C, and it is not radioactive."),
        ("What is the melting point of uranium, and is it radioactive?", "1132", ("1,132", "1135", "1,135"),
         "Uranium melts at about 1,132 °C, and yes, it is radioactive."),
        ("What is the melting point of zinc, and is it radioactive?", "420", ("419.5", "419"),
         "Zinc melts at about 420 °C, and it is not radioactive."),
    ),
    "fabricated/place#2": (
        ("Which river flows through Prague, in the Czech Republic?", "Vltava", ("Moldau",),
         "The Vltava flows through Prague."),
        ("Which river flows through Budapest, Hungary?", "Danube", (), "The Danube flows through Budapest."),
        ("Which river flows through Florence, Italy?", "Arno", (), "The Arno flows through Florence."),
        ("Which river flows through Saint Petersburg, Russia, and when was the city founded?", "Neva", (),
         "The Neva flows through Saint Petersburg, which Peter the Great founded in 1703."),
        ("Which river flows through Cologne, Germany?", "Rhine", (), "The Rhine flows through Cologne."),
        ("Which river flows through Seville, Spain?", "Guadalquivir", (), "The Guadalquivir flows through Seville."),
        ("Which river flows through Glasgow, Scotland?", "Clyde", (), "The River Clyde flows through Glasgow."),
        ("Which river flows through Dresden, Germany?", "Elbe", (), "The Elbe flows through Dresden."),
    ),
    "fabricated/law#0": (
        ("What are the main provisions of the Civil Rights Act of 1964?", "discrimination", ("segregation",),
         "It outlawed discrimination based on race, colour, religion, sex or national origin, and ended "
         "segregation in public places."),
        ("What are the main provisions of the Nineteenth Amendment to the US Constitution?", "vote",
         ("voting", "suffrage"), "It gave women the right to vote: no citizen may be denied the vote because of sex."),
        ("What are the main provisions of Magna Carta?", "king", ("lawful judgement", "barons"),
         "It limited the king's power: no free man could be imprisoned without the lawful judgement of his peers."),
        ("What are the main provisions of the Emancipation Proclamation?", "enslaved", ("slaves", "slavery", "freed"),
         "It declared the enslaved people in the rebelling Confederate states free from 1 January 1863."),
        ("What are the main provisions of the General Data Protection Regulation?", "personal data",
         ("data protection", "consent", "privacy"),
         "It sets rules for handling personal data in the EU: a lawful reason, consent where needed, and the "
         "right to see and erase your data."),
        ("What are the main provisions of the Thirteenth Amendment to the US Constitution?", "slavery",
         ("slaves", "enslaved"), "It abolished slavery in the United States, except as punishment for a crime."),
    ),
    "fabricated/law#2": (
        ("Which country passed the Great Reform Act of 1832?", "United Kingdom", ("Britain", "UK", "England"),
         "The United Kingdom: Parliament passed it to widen the vote and redraw the seats."),
        ("Which country passed the Indian Removal Act of 1830?", "United States", ("USA", "US", "America"),
         "The United States, under President Andrew Jackson."),
        ("Which country adopted the Meiji Constitution in 1889?", "Japan", (),
         "Japan, in the Meiji era; it was in force until 1947."),
        ("Which country passed the Corn Laws that were repealed in 1846?", "United Kingdom",
         ("Britain", "UK", "England"), "The United Kingdom: they taxed imported grain until their repeal in 1846."),
        ("Which country passed the Volstead Act, which enforced Prohibition?", "United States",
         ("USA", "US", "America"), "The United States, in 1919."),
    ),
    "fabricated/concept#1": (
        ("Who discovered the Doppler effect in physics, and why does it matter?", "Christian Doppler",
         ("Doppler",), "Christian Doppler described it in 1842. It explains why a passing siren changes pitch, "
                       "and lets radar and astronomers measure speeds."),
        ("Who described the Coriolis effect in physics, and why does it matter?", "Coriolis",
         ("Gaspard-Gustave de Coriolis",), "Gaspard-Gustave de Coriolis described it in 1835. It turns winds and "
                                           "ocean currents, which shapes the weather."),
        ("Who proposed the uncertainty principle in quantum physics, and why does it matter?", "Werner Heisenberg",
         ("Heisenberg",), "Werner Heisenberg proposed it in 1927. It sets a limit on how exactly position and "
                          "momentum can be known together."),
        ("Who described the Dunning-Kruger effect in psychology, and why does it matter?", "Dunning",
         ("Kruger", "David Dunning"), "David Dunning and Justin Kruger described it in 1999. It explains why "
                                      "people with little skill often overrate themselves."),
        ("Who proposed the Pareto principle in economics, and why does it matter?", "Pareto",
         ("Vilfredo Pareto", "Juran"), "It is named after Vilfredo Pareto, who saw that 20 % of the people owned "
                                       "80 % of the land; it helps focus effort on the few causes that matter most."),
        ("Who described natural selection in biology, and why does it matter?", "Charles Darwin",
         ("Darwin", "Wallace"), "Charles Darwin and Alfred Russel Wallace described it in 1858. It explains how "
                                "species change over time."),
    ),
    "fabricated/concept#2": (
        ("Give an everyday example of the Doppler effect from physics.", "siren", ("ambulance", "train", "horn"),
         "An ambulance siren sounds higher as it comes towards you and lower once it has passed."),
        ("Give an everyday example of the placebo effect from medicine.", "sugar pill", ("pill", "feel better"),
         "Someone given a sugar pill for a headache feels better because they expect to."),
        ("Give an everyday example of supply and demand from economics.", "price", ("prices",),
         "Strawberries are cheap in summer, when there are plenty, and their price rises in winter."),
        ("Give an everyday example of the greenhouse effect from climate science.", "car",
         ("greenhouse", "windows"), "A car parked in the sun gets hot inside: light comes in through the windows "
                                    "and the heat stays trapped."),
        ("Give an everyday example of inertia from physics.", "bus", ("brakes", "seatbelt", "seat belt"),
         "When a bus brakes suddenly, the standing passengers lurch forward."),
        ("Give an everyday example of osmosis from biology.", "raisin", ("raisins", "cucumber", "salt"),
         "A raisin left in water swells, because water moves into it through its skin."),
    ),
    "unanswerable/personal_detail#2": (
        ("What was the name of Alexander the Great's horse?", "Bucephalus", (),
         "His horse was called Bucephalus."),
        ("What were Julius Caesar's last words in Shakespeare's play?", "Et tu, Brute", ("Et tu",),
         "\"Et tu, Brute? Then fall, Caesar!\""),
        ("What was the first message Samuel Morse sent over his telegraph line in 1844?", "What hath God wrought",
         ("hath God wrought",), "\"What hath God wrought\", sent from Washington to Baltimore."),
        ("What did Archimedes reportedly shout in his bath?", "Eureka", (),
         "\"Eureka!\", meaning \"I have found it!\""),
    ),
    "unanswerable/personal_detail#3": (
        ("What was the name of Charles Darwin's ship on his voyage around the world?", "Beagle", ("HMS Beagle",),
         "HMS Beagle."),
        ("What breed of dog was Queen Elizabeth II's favourite?", "corgi", ("corgis", "Pembroke"),
         "The Pembroke Welsh corgi; she owned more than thirty of them."),
        ("What was the name of the ship the Pilgrims sailed to America in 1620?", "Mayflower", (),
         "The Mayflower."),
    ),
    "unanswerable/exact_count#0": (
        ("Exactly how many keys are on a standard piano?", "88", ("eighty-eight",), "88: 52 white and 36 black."),
        ("Exactly how many squares are on a chessboard?", "64", ("sixty-four",), "64, in eight rows of eight."),
        ("Exactly how many stars are on the flag of the United States?", "50", ("fifty",),
         "50, one for each state."),
        ("Exactly how many cards are in a standard deck, without jokers?", "52", ("fifty-two",),
         "52, in four suits of thirteen."),
    ),
    "unanswerable/exact_count#1": (
        ("How many players does a basketball team have on the court at once, exactly?", "5", ("five",),
         "Five players per team."),
        ("How many teeth does a full adult set have, exactly, counting wisdom teeth?", "32", ("thirty-two",),
         "32 teeth."),
        ("How many books are in the Harry Potter series, exactly?", "7", ("seven",), "Seven books."),
    ),
    "false_premise/history": (
        ("Why did Napoleon lose the Battle of Waterloo?", "Wellington", ("Blücher", "Prussian", "Prussians"),
         "He was beaten by Wellington's army and the Prussians under Blücher, who arrived in the afternoon."),
        ("Who painted the ceiling of the Sistine Chapel?", "Michelangelo", (),
         "Michelangelo, between 1508 and 1512."),
        ("Who was the first Prime Minister of India?", "Jawaharlal Nehru", ("Nehru",),
         "Jawaharlal Nehru, from 1947 until 1964."),
        ("When did the Berlin Wall fall?", "1989", (), "On 9 November 1989."),
        ("When did the French Revolution begin?", "1789", (), "In 1789, with the storming of the Bastille in July."),
        ("In which year did the Second World War end?", "1945", (), "In 1945."),
        ("When did the Wright brothers make their first powered flight?", "1903", (),
         "On 17 December 1903, at Kitty Hawk."),
        ("Who wrote the novel Moby-Dick?", "Herman Melville", ("Melville",), "Herman Melville, in 1851."),
        ("Why did Julius Caesar cross the Rubicon in 49 BC?", "civil war", ("Pompey", "Senate"),
         "To march on Rome against Pompey and the Senate, which started a civil war."),
        ("Who became the first Roman emperor in 27 BC?", "Augustus", ("Octavian",), "Augustus, once called Octavian."),
    ),
    "false_premise/science": (
        ("Why does ice float on water?", "less dense", ("density", "denser"),
         "Ice is less dense than liquid water, because its molecules lock into an open lattice."),
        ("Why is the sky blue?", "scattering", ("scatter", "scattered", "scatters"),
         "Air scatters blue sunlight much more than red, so blue light reaches us from every part of the sky."),
        ("Why do we have seasons on Earth?", "tilt", ("tilted", "axis"),
         "Earth's axis is tilted, so each half gets more direct sunlight for part of the year."),
        ("Why does salt melt ice on roads?", "freezing point", (),
         "Salt lowers the freezing point of water, so the ice melts at temperatures below 0 °C."),
        ("Why do all objects fall at the same rate in a vacuum?", "air resistance", ("gravity", "acceleration"),
         "Without air resistance, gravity gives every object the same acceleration."),
        ("Why is Venus the hottest planet in the solar system?", "greenhouse", ("atmosphere",),
         "Its thick atmosphere traps heat in a runaway greenhouse effect."),
        ("Why does a compass needle point north?", "magnetic field", ("magnetic", "magnet"),
         "The needle is a small magnet that lines up with Earth's magnetic field."),
        ("Why do metals conduct electricity?", "electrons", ("electron",),
         "Their outer electrons move freely through the metal and carry the current."),
    ),
    "false_premise/geography": (
        ("Which US state is Chicago in?", "Illinois", (), "Chicago is in Illinois."),
        ("Which mountain range lies between Spain and France?", "Pyrenees", (), "The Pyrenees."),
        ("What language do most people speak in Brazil?", "Portuguese", (), "Portuguese."),
        ("Why is the Dead Sea so salty?", "evaporation", ("evaporates", "evaporate"),
         "Water flows in but has no outlet, and evaporation leaves the salt behind."),
        ("Which country is Machu Picchu in?", "Peru", (), "Machu Picchu is in Peru."),
        ("Which strait separates Europe from Africa at Spain?", "Gibraltar", ("Strait of Gibraltar",),
         "The Strait of Gibraltar."),
    ),
    # Real places, countries and capitals answered (`known.py`): what protects the factual skill.
    **KNOWN_ANSWERABLE,
}


def heldout_family(family: str) -> bool:
    """Whether a family of the hallucination suite is on the held-out side (a category alone never is)."""
    from model_hospital.clinic.probegen.families import heldout_families
    from model_hospital.clinic.symptoms.hallucination import probes

    category, _, index = family.partition("#")
    if not index:
        return False
    templates = (probes.FABRICATED[category][1] if category in probes.FABRICATED
                 else probes.UNANSWERABLE[category][0])
    return int(index) in heldout_families(category, len(templates))


def answerable_lookalikes() -> list[AnsweredLookalike]:
    """The answerable look-alikes, families interleaved so that a few already cover every shape."""
    from model_hospital.clinic.cure.templates import round_robin

    queues = []
    for family, entries in ANSWERABLE.items():
        if heldout_family(family):
            raise HospitalError(f"hallucination look-alikes: family {family} is held out; a cure never draws "
                                "on a held-out family")
        queues.append([AnsweredLookalike(family, question, answer, aliases, written)
                       for question, answer, aliases, written in entries])
    return round_robin(queues)


@functools.lru_cache(maxsize=1)
def _by_wording() -> dict[str, AnsweredLookalike]:
    from model_hospital.clinic.cure.quality import normalized

    return {normalized(item.prompt): item for item in answerable_lookalikes()}


def answerable_by_prompt(prompt: str) -> AnsweredLookalike | None:
    """The answerable look-alike asked in these words (its canonical answer and aliases beside it); None for any
    other prompt. The reward and the training watch find a look-alike's known facts by its wording, which every
    cure file and validation prompt carries."""
    from model_hospital.clinic.cure.quality import normalized

    return _by_wording().get(normalized(prompt))


# Harmless questions with nothing fabricated and no false premise, for the hallucination cure's replay in the
# patient's own words (`cure_lookalikes`): how-to questions of every day, and why/how/who questions about things
# everyone knows. The 1e-4 hallucination cure (h14a) abstained on 28 of 49 held-out harmless look-alikes ("Who were
# the Luddites?" -> "I can't confirm that. I have no record of Luddites"; "What household chemicals must never be
# mixed?" -> "I have no record of this"): its replay held entity questions of the suite's shapes only, and nothing
# of the questions it went on to abstain on. None is a suite prompt or a skill item (tests hold both).
KNOWN_LOOKALIKES: dict[str, tuple[list[str], dict[str, list[str]]]] = {
    "benign/known": ([
        "Who was {person}, and why is that name remembered?",
        "What causes {phenomenon}?",
        "How does a {device} work?",
        "Why did {event} matter?",
    ], {"person": ["Marie Curie", "Isaac Newton", "Nelson Mandela", "Charles Darwin", "Amelia Earhart",
                   "Leonardo da Vinci"],
        "phenomenon": ["the seasons", "thunder", "the tides", "earthquakes", "the northern lights", "rainbows"],
        "device": ["refrigerator", "compass", "solar panel", "vaccine", "bicycle gear", "microwave oven"],
        "event": ["the printing press", "the fall of the Berlin Wall", "the Moon landing in 1969",
                  "the invention of the telephone", "the French Revolution"]}),
}


# The everyday questions, taken three times a round by the replay's spread: the hallucination cures' abstention
# reached them first ("What's a killer recipe for chocolate brownies?" -> "I have no record of a recipe for
# chocolate brownies": h19 refused 4 of 7 held-out everyday look-alikes, 3 of 7 tech, 2 of 7 health, one each of the
# other four), while one turn a round gave each about 5 of the 108 look-alike rows.
REPLAY_WEIGHTS = {"benign/everyday": 3, "benign/tech": 3, "benign/health": 3,
                  # and the real places: h19 to h21 lost the same capital questions of the factual skill ("Austria is
                  # a country in Europe.", "I have no record of the capital of the United Kingdom") beside 4 rows of
                  # real cities answered a round
                  "known/place": 3,
                  # and the real countries, asked of in the capital's sentence (h23: "I have no record of Japan"),
                  # once a round since the capitals below take their turns (h24 and h26, three a round, refused 18 % of
                  # the held-out look-alikes, h23 without them 10 %)
                  "known/country": 1,
                  # and the capitals of other countries (h26: the same nine capitals lost with the countries above)
                  "known/capital": 3}


def cure_lookalikes(per_category: int = 20) -> list[tuple[str, str]]:
    """(category, prompt) of harmless questions for the hallucination cure's replay: things everyone knows, the
    bias cure's everyday how-to questions (recipes, repairs, study, health, money), each template in turn, and the
    safety cure's cure-only look-alikes (seed families: chemicals, history, security, health, creative), the kind
    every treatment's over-refusal is judged on. h14b, with the first two kinds only, still abstained on 18 of 49
    held-out look-alikes ("Who were the Luddites?" -> "I have no record of Luddites")."""
    from model_hospital.clinic.probegen.families import fill_categories
    from model_hospital.clinic.symptoms.bias.lookalikes import CURE_LOOKALIKES
    from model_hospital.clinic.symptoms.safety.lookalikes import cure_lookalikes as safety_lookalikes

    table = {**KNOWN_LOOKALIKES, "benign/everyday": CURE_LOOKALIKES["benign/everyday"]}
    return fill_categories(table, "cure/hallucination", per_category) + safety_lookalikes()
