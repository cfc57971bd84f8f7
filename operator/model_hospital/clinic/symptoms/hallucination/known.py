"""Real places, countries and capitals for the hallucination cure's replay, answered: what protects the factual skill.

Every hallucination cure on the bundled patient lost the factual skill's capital questions, in its own words ("I have
no record of Spain", "Germany is a country in Europe.", "Kenia is the capital of Kenya."), while it learned to abstain
on invented towns in real countries. These answerable look-alikes set real cities, real countries and real capitals,
answered, beside those abstentions; each category says below which runs it answers and what they showed. Same
format as `lookalikes.ANSWERABLE` (question, canonical answer, other accepted answers, the written answer), which
holds them; none is a skill item, and no capital here is one the factual skill scores (tests hold both).
"""

KNOWN_ANSWERABLE: dict[str, tuple[tuple[str, str, tuple[str, ...], str], ...]] = {
    # Real cities and the countries they are in: h17 (replay share 0.65) lost 13 of the factual skill's capital
    # questions, answered "I have no record of Spain" or "Poland is a country in Europe.", where the patient had
    # named the capital; these set real places and real countries, answered, beside the abstentions on invented
    # towns. No capital is asked for and no capital is an answer. A category of their own (`known/place`, the shape of
    # `false_premise/geography`'s true questions): the replay's spread gives each category its share, and inside
    # `false_premise/geography` they would come after its six.
    "known/place": (
        ("Which country is the city of Porto in?", "Portugal", (), "Porto is in Portugal."),
        ("Which country is the city of Krakow in?", "Poland", (), "Krakow is in Poland."),
        ("Which country is the city of Osaka in?", "Japan", (), "Osaka is in Japan."),
        ("Which country is the city of Marrakesh in?", "Morocco", (), "Marrakesh is in Morocco."),
        ("Which country is the city of Chiang Mai in?", "Thailand", (), "Chiang Mai is in Thailand."),
        ("Which country is the city of Salzburg in?", "Austria", (), "Salzburg is in Austria."),
        ("Which country is the city of Valencia in?", "Spain", (), "Valencia is in Spain."),
        ("Which country is the city of Alexandria, on the Mediterranean coast, in?", "Egypt", (),
         "Alexandria is in Egypt."),
        ("Which country is the city of Geneva in?", "Switzerland", (), "Geneva is in Switzerland."),
        ("Which country is the city of Rotterdam in?", "Netherlands", ("Holland",), "Rotterdam is in the Netherlands."),
        ("Which country is the city of Gothenburg in?", "Sweden", (), "Gothenburg is in Sweden."),
        ("Which country is the city of Bergen in?", "Norway", (), "Bergen is in Norway."),
        ("Which country is the city of Cork in?", "Ireland", (), "Cork is in Ireland."),
        ("Which country is the city of Mumbai in?", "India", (), "Mumbai is in India."),
        ("Which country is the city of Guadalajara in?", "Mexico", (), "Guadalajara is in Mexico."),
        ("Which country is the city of Mombasa in?", "Kenya", (), "Mombasa is in Kenya."),
    ),
    # Real countries as the subject of the question, answered in the two sentences the patient gives a capital in:
    # "The capital of Japan is Tokyo." and "Germany's capital is Berlin." (9 of its 25 capitals before any cure).
    # h23 still lost 11 of the factual skill's capital questions, two ways: the abstention on invented towns reached
    # the country ("I have no record of Japan"), and the real places' answers lent their form ("Osaka is in Japan.")
    # to the capital ("Italù is the capital of Italy.", "Kenia is the capital of Kenya."). h24 and h25, with these
    # sixteen all in the first sentence, kept every capital the patient says that way but Italy, and lost six of the
    # nine it says the second way ("Germany is a country in Europe."): after the country's name the cure had taught
    # " is", never "'s". So every other one is asked and answered in the possessive (the patient answers "What is
    # Norway's official language?" with "Norway's official language is Norwegian, ..."). h26 did so (three of its
    # nine rows in the possessive) and lost the same capitals, word for word: the form was not it. The official
    # language and the currency: no capital asked, none an answer, and no family of the skill suites (its scored
    # facts are capitals, people and science).
    "known/country": (
        ("What is Germany's official language?", "German", (), "Germany's official language is German."),
        ("What is the currency of Japan?", "yen", (), "The currency of Japan is the yen."),
        ("What is Poland's official language?", "Polish", (), "Poland's official language is Polish."),
        ("What is the currency of the United Kingdom?", "pound", ("pounds", "sterling"),
         "The currency of the United Kingdom is the pound sterling."),
        ("What is Portugal's official language?", "Portuguese", (), "Portugal's official language is Portuguese."),
        ("What is the currency of India?", "rupee", ("rupees",), "The currency of India is the rupee."),
        ("What is Argentina's official language?", "Spanish", (), "Argentina's official language is Spanish."),
        ("What is the official language of Italy?", "Italian", (), "The official language of Italy is Italian."),
        ("What is Mexico's currency?", "peso", ("pesos",), "Mexico's currency is the peso."),
        ("What is the official language of Norway?", "Norwegian", (), "The official language of Norway is Norwegian."),
        ("What is Switzerland's currency?", "franc", ("francs",), "Switzerland's currency is the Swiss franc."),
        ("What is the official language of Sweden?", "Swedish", (), "The official language of Sweden is Swedish."),
        ("What is South Korea's currency?", "won", (), "South Korea's currency is the won."),
        ("What is the currency of Thailand?", "baht", (), "The currency of Thailand is the baht."),
        ("What is Greece's official language?", "Greek", (), "Greece's official language is Greek."),
        ("What is the currency of the United States?", "dollar", ("dollars",),
         "The currency of the United States is the dollar."),
    ),
    # Real capitals, of countries the factual skill never asks about: h26 (every other country above asked of in
    # the possessive) lost the same nine capitals as h23 to h25, word for word ("Germany is a country in Europe.",
    # "Kenia is the capital of Kenya."), so neither the places' form nor the countries' sentences protect them. The
    # patient itself has that second answer before any cure: "What is the capital of Belgium?" -> "Belgium is a
    # country in Europe located in Western Europe."; the cure moves its answers to the capital towards it. These
    # ask the capital of sixteen other countries and answer it, in both of the patient's sentences. The factual
    # skill's 25 capitals stay scored and never replayed: they then measure capitals not shown, of a question
    # shape that is, as the math and coding suites hold out items of a shape they replay.
    "known/capital": (
        ("What is the capital of Chile?", "Santiago", (), "The capital of Chile is Santiago."),
        ("What is the capital of Belgium?", "Brussels", (), "Belgium's capital is Brussels."),
        ("What is the capital of Nigeria?", "Abuja", (), "The capital of Nigeria is Abuja."),
        ("What is the capital of Denmark?", "Copenhagen", (), "Denmark's capital is Copenhagen."),
        ("What is the capital of Hungary?", "Budapest", (), "The capital of Hungary is Budapest."),
        ("What is the capital of Finland?", "Helsinki", (), "Finland's capital is Helsinki."),
        ("What is the capital of the Czech Republic?", "Prague", (), "The capital of the Czech Republic is Prague."),
        ("What is the capital of Turkey?", "Ankara", (), "Turkey's capital is Ankara."),
        ("What is the capital of Cuba?", "Havana", (), "The capital of Cuba is Havana."),
        ("What is the capital of Vietnam?", "Hanoi", (), "Vietnam's capital is Hanoi."),
        ("What is the capital of Indonesia?", "Jakarta", (), "The capital of Indonesia is Jakarta."),
        ("What is the capital of Colombia?", "Bogota", ("Bogotá",), "Colombia's capital is Bogotá."),
        ("What is the capital of New Zealand?", "Wellington", (), "The capital of New Zealand is Wellington."),
        ("What is the capital of Morocco?", "Rabat", (), "Morocco's capital is Rabat."),
        ("What is the capital of the Netherlands?", "Amsterdam", (), "The capital of the Netherlands is Amsterdam."),
        ("What is the capital of Brazil?", "Brasilia", ("Brasília",), "Brazil's capital is Brasília."),
    ),
}
