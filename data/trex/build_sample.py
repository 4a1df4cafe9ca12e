#!/usr/bin/env python3
"""Writes trex_sample.json: hand-written facts about creative works in the T-REx dump format.

The facts below were written by hand from general knowledge and checked; they are not copied
from T-REx, Wikidata or any dataset. Every work gets one document in the shape of a T-REx
document (docid, title, uri, text, entities, words_boundaries, sentences_boundaries, triples);
the text and its annotations are left empty because the facts are not aligned to any text.
Entity URIs use the placeholder scheme http://imlhost.invalid/e/<slug> (see README.md);
predicate URIs are the real Wikidata ones (http://www.wikidata.org/prop/direct/P<n>).

Run: python3 data/trex/build_sample.py   (rewrites data/trex/trex_sample.json)
"""
import json
import os
import re
import unicodedata

ENTITY = "http://imlhost.invalid/e/"
PROP = "http://www.wikidata.org/prop/direct/"

# Short keyword -> Wikidata property (Table 2 of the paper, plus P31 "instance of", which the
# dataset ignores, as T-REx documents carry many predicates outside Table 2).
KEYS = {
    "author": "P50", "date": "P577", "lang": "P407", "film_lang": "P364", "genre": "P136",
    "publisher": "P123", "setting": "P840", "series": "P179", "subject": "P921",
    "director": "P57", "screenwriter": "P58", "cast": "P161", "composer": "P86",
    "producer": "P162", "distributor": "P750", "filmed": "P915", "cinematographer": "P344",
    "film_editor": "P1040", "editor": "P98", "developer": "P178", "depicts": "P180",
    "collection": "P195", "movement": "P135", "commissioner": "P88", "owner": "P127",
    "license": "P275", "instance": "P31",
}

WORKS = []  # (title as written, {property: [values]})


def work(title, kind, **facts):
    props = {"P31": [kind]}
    for key, value in facts.items():
        values = value if isinstance(value, list) else [v.strip() for v in value.split("|")]
        props.setdefault(KEYS[key], []).extend(values)
    WORKS.append((title, props))


def novel(title, author, date, publisher=None, lang="English", kind="novel", **f):
    if publisher:
        f["publisher"] = publisher
    work(title, kind, author=author, date=date, lang=lang, **f)


def film(title, director, date, lang="English", **f):
    work(title, "film", director=director, date=date, film_lang=lang, **f)


def game(title, developer, date, **f):
    work(title, "video game", developer=developer, date=date, **f)


def album(title, date, producer, genre, lang="English"):
    work(title, "album", date=date, producer=producer, genre=genre, lang=lang)


def painting(title, **f):
    work(title, "painting", **f)


# ---- novels, plays and other books ---------------------------------------------------------
novel("Nineteen Eighty-Four", "George Orwell", "8 June 1949", "Secker & Warburg", genre="dystopian novel", setting="London")
novel("Animal Farm", "George Orwell", "1945", "Secker & Warburg", genre="political satire", setting="England")
novel("Brave New World", "Aldous Huxley", "1932", "Chatto & Windus", genre="dystopian novel", setting="London")
novel("The Great Gatsby", "F. Scott Fitzgerald", "10 April 1925", "Charles Scribner's Sons", setting="Long Island")
novel("To Kill a Mockingbird", "Harper Lee", "11 July 1960", "J. B. Lippincott & Co.", genre="Southern Gothic", setting="Alabama")
novel("The Catcher in the Rye", "J. D. Salinger", "1951", "Little, Brown and Company", setting="New York City")
novel("Pride and Prejudice", "Jane Austen", "1813", "Thomas Egerton", genre="romance novel", setting="England")
novel("Sense and Sensibility (novel)", "Jane Austen", "1811", "Thomas Egerton", genre="romance novel", setting="England")
novel("Emma", "Jane Austen", "1815", "John Murray", genre="comedy of manners", setting="Highbury")
novel("Persuasion", "Jane Austen", "1817", "John Murray", setting="Bath")
novel("Jane Eyre", "Charlotte Brontë", "1847", "Smith, Elder & Co.", genre="Bildungsroman", setting="England")
novel("Wuthering Heights", "Emily Brontë", "1847", "Thomas Cautley Newby", genre="Gothic fiction", setting="Yorkshire")
novel("Frankenstein (novel)", "Mary Shelley", "1818", genre="Gothic novel|science fiction")
novel("Dracula (novel)", "Bram Stoker", "1897", "Archibald Constable and Company", genre="Gothic horror", setting="Transylvania|London")
novel("Moby-Dick", "Herman Melville", "1851", "Richard Bentley|Harper & Brothers", genre="adventure fiction")
novel("Adventures of Huckleberry Finn", "Mark Twain", "1884", "Chatto & Windus|Charles L. Webster And Company", genre="picaresque novel", setting="Mississippi River")
novel("The Adventures of Tom Sawyer", "Mark Twain", "1876", "American Publishing Company", setting="Missouri")
novel("Great Expectations", "Charles Dickens", "1861", "Chapman & Hall", genre="Bildungsroman", setting="Kent|London")
novel("A Tale of Two Cities", "Charles Dickens", "1859", "Chapman & Hall", genre="historical novel", setting="London|Paris")
novel("Oliver Twist", "Charles Dickens", "1838", "Richard Bentley", setting="London")
novel("David Copperfield", "Charles Dickens", "1850", "Bradbury & Evans", genre="Bildungsroman", setting="England")
novel("A Christmas Carol", "Charles Dickens", "1843", "Chapman & Hall", kind="novella", genre="novella", setting="London")
novel("Middlemarch", "George Eliot", "1871", "William Blackwood and Sons")
novel("Tess of the d'Urbervilles", "Thomas Hardy", "1891", "Osgood, McIlvaine & Co.", setting="Wessex")
novel("War and Peace", "Leo Tolstoy", "1869", "The Russian Messenger", lang="Russian", genre="historical novel", setting="Russia")
novel("Anna Karenina", "Leo Tolstoy", "1878", "The Russian Messenger", lang="Russian", setting="Saint Petersburg|Moscow")
novel("Crime and Punishment", "Fyodor Dostoevsky", "1866", "The Russian Messenger", lang="Russian", genre="psychological novel", setting="Saint Petersburg")
novel("The Brothers Karamazov", "Fyodor Dostoevsky", "1880", "The Russian Messenger", lang="Russian", genre="philosophical novel")
novel("The Master and Margarita", "Mikhail Bulgakov", "1967", lang="Russian", genre="fantasy|satire", setting="Moscow")
novel("Doctor Zhivago (novel)", "Boris Pasternak", "1957", "Feltrinelli", lang="Russian", genre="historical novel", setting="Russia")
novel("One Day in the Life of Ivan Denisovich", "Aleksandr Solzhenitsyn", "1962", "Novy Mir", lang="Russian", setting="Gulag")
novel("Madame Bovary", "Gustave Flaubert", "1857", "Michel Lévy Frères", lang="French", genre="realist novel", setting="Normandy")
novel("Les Misérables", "Victor Hugo", "1862", "A. Lacroix, Verboeckhoven & Cie.", lang="French", genre="historical novel", setting="Paris")
novel("The Hunchback of Notre-Dame", "Victor Hugo", "1831", "Gosselin", lang="French", genre="historical novel", setting="Paris")
novel("The Count of Monte Cristo", "Alexandre Dumas", "1844", lang="French", genre="adventure novel", setting="Marseille|Paris")
novel("The Three Musketeers", "Alexandre Dumas", "1844", lang="French", genre="historical novel", series="The d'Artagnan Romances", setting="Paris")
novel("Germinal", "Émile Zola", "1885", lang="French", series="Les Rougon-Macquart", setting="France")
novel("The Phantom of the Opera", "Gaston Leroux", "1910", lang="French", genre="Gothic fiction", setting="Paris")
novel("Twenty Thousand Leagues Under the Seas", "Jules Verne", "1870", "Pierre-Jules Hetzel", lang="French", genre="science fiction", series="Voyages extraordinaires")
novel("Around the World in Eighty Days", "Jules Verne", "1872", "Pierre-Jules Hetzel", lang="French", genre="adventure novel", series="Voyages extraordinaires")
novel("The Stranger", "Albert Camus", "1942", "Gallimard", lang="French", genre="philosophical novel", setting="Algiers")
novel("The Plague", "Albert Camus", "1947", "Gallimard", lang="French", genre="philosophical novel", setting="Oran")
novel("The Little Prince", "Antoine de Saint-Exupéry", "1943", "Reynal & Hitchcock", lang="French", kind="novella", genre="novella")
novel("Swann's Way", "Marcel Proust", "1913", "Grasset", lang="French", series="In Search of Lost Time", setting="Combray")
novel("Don Quixote", "Miguel de Cervantes", "1605", "Francisco de Robles", lang="Spanish", setting="La Mancha")
novel("One Hundred Years of Solitude", "Gabriel García Márquez", "1967", "Editorial Sudamericana", lang="Spanish", genre="magic realism", setting="Macondo")
novel("The Name of the Rose", "Umberto Eco", "1980", "Bompiani", lang="Italian", genre="historical mystery", setting="Italy")
novel("The Prince", "Niccolò Machiavelli", "1532", lang="Italian", kind="treatise", genre="political philosophy", subject="politics")
novel("The Trial", "Franz Kafka", "1925", "Verlag Die Schmiede", lang="German", genre="philosophical novel")
novel("The Metamorphosis", "Franz Kafka", "1915", "Kurt Wolff Verlag", lang="German", kind="novella", genre="novella")
novel("The Magic Mountain", "Thomas Mann", "1924", "S. Fischer Verlag", lang="German", genre="Bildungsroman", setting="Davos")
novel("All Quiet on the Western Front", "Erich Maria Remarque", "1929", "Propyläen Verlag", lang="German", genre="war novel", setting="Western Front")
novel("The Tin Drum", "Günter Grass", "1959", "Luchterhand", lang="German", genre="magic realism", series="Danzig Trilogy", setting="Danzig")
novel("The Neverending Story", "Michael Ende", "1979", "Thienemann Verlag", lang="German", genre="fantasy")
novel("Perfume: The Story of a Murderer", "Patrick Süskind", "1985", "Diogenes Verlag", lang="German", genre="historical novel", setting="France")
novel("The Sorrows of Young Werther", "Johann Wolfgang von Goethe", "1774", "Weygand", lang="German", genre="epistolary novel")
novel("Pippi Longstocking", "Astrid Lindgren", "1945", "Rabén & Sjögren", lang="Swedish", genre="children's literature")
novel("The Girl with the Dragon Tattoo", "Stieg Larsson", "2005", "Norstedts Förlag", lang="Swedish", genre="crime fiction", series="Millennium", setting="Sweden")
novel("Solaris (novel)", "Stanisław Lem", "1961", lang="Polish", genre="science fiction")
novel("The Alchemist", "Paulo Coelho", "1988", lang="Portuguese", genre="fantasy")
novel("Norwegian Wood", "Haruki Murakami", "1987", "Kodansha", lang="Japanese", setting="Tokyo")
novel("Ulysses", "James Joyce", "1922", "Shakespeare and Company", genre="modernist novel", setting="Dublin")
novel("A Portrait of the Artist as a Young Man", "James Joyce", "1916", "B. W. Huebsch", genre="Bildungsroman", setting="Dublin")
novel("Mrs Dalloway", "Virginia Woolf", "1925", "Hogarth Press", genre="modernist novel", setting="London")
novel("Heart of Darkness", "Joseph Conrad", "1899", kind="novella", genre="novella", setting="Congo")
novel("Lord of the Flies", "William Golding", "1954", "Faber and Faber", genre="allegory")
novel("The Hobbit", "J. R. R. Tolkien", "21 September 1937", "George Allen & Unwin", genre="fantasy", setting="Middle-earth")
novel("The Lord of the Rings", "J. R. R. Tolkien", "1954", "George Allen & Unwin", genre="high fantasy", setting="Middle-earth")
novel("The Fellowship of the Ring", "J. R. R. Tolkien", "1954", "George Allen & Unwin", genre="high fantasy", series="The Lord of the Rings", setting="Middle-earth")
novel("The Silmarillion", "J. R. R. Tolkien", "1977", "George Allen & Unwin", genre="high fantasy", editor="Christopher Tolkien", setting="Middle-earth")
novel("The Lion, the Witch and the Wardrobe", "C. S. Lewis", "1950", "Geoffrey Bles", genre="fantasy", series="The Chronicles of Narnia", setting="Narnia")
novel("The Magician's Nephew", "C. S. Lewis", "1955", "The Bodley Head", genre="fantasy", series="The Chronicles of Narnia", setting="Narnia")
novel("Harry Potter and the Philosopher's Stone", "J. K. Rowling", "26 June 1997", "Bloomsbury", genre="fantasy", series="Harry Potter", setting="Hogwarts")
novel("Harry Potter and the Goblet of Fire", "J. K. Rowling", "8 July 2000", "Bloomsbury", genre="fantasy", series="Harry Potter", setting="Hogwarts")
novel("Harry Potter and the Order of the Phoenix", "J. K. Rowling", "21 June 2003", "Bloomsbury", genre="fantasy", series="Harry Potter", setting="Hogwarts")
novel("Harry Potter and the Deathly Hallows", "J. K. Rowling", "21 July 2007", "Bloomsbury", genre="fantasy", series="Harry Potter")
novel("A Game of Thrones", "George R. R. Martin", "1996", "Bantam Spectra", genre="fantasy", series="A Song of Ice and Fire", setting="Westeros")
novel("A Dance with Dragons", "George R. R. Martin", "2011", genre="fantasy", series="A Song of Ice and Fire", setting="Westeros")
novel("Dune (novel)", "Frank Herbert", "1965", "Chilton Books", genre="science fiction", series="Dune", setting="Arrakis")
novel("Foundation", "Isaac Asimov", "1951", "Gnome Press", genre="science fiction", series="Foundation series")
novel("Fahrenheit 451", "Ray Bradbury", "1953", "Ballantine Books", genre="dystopian novel")
novel("The Martian Chronicles", "Ray Bradbury", "1950", "Doubleday", genre="science fiction", setting="Mars")
novel("Neuromancer", "William Gibson", "1984", "Ace Books", genre="cyberpunk", series="Sprawl trilogy", setting="Chiba City")
novel("Do Androids Dream of Electric Sheep?", "Philip K. Dick", "1968", "Doubleday", genre="science fiction", setting="San Francisco")
novel("Stranger in a Strange Land", "Robert A. Heinlein", "1961", "G. P. Putnam's Sons", genre="science fiction")
novel("2001: A Space Odyssey (novel)", "Arthur C. Clarke", "1968", "New American Library", genre="science fiction")
novel("The Left Hand of Darkness", "Ursula K. Le Guin", "1969", "Ace Books", genre="science fiction", series="Hainish Cycle", setting="Gethen")
novel("A Wizard of Earthsea", "Ursula K. Le Guin", "1968", "Parnassus Press", genre="fantasy", series="Earthsea", setting="Earthsea")
novel("Ender's Game", "Orson Scott Card", "1985", "Tor Books", genre="military science fiction", series="Ender's Game series")
novel("The Hitchhiker's Guide to the Galaxy (novel)", "Douglas Adams", "1979", "Pan Books", genre="comic science fiction", series="The Hitchhiker's Guide to the Galaxy")
novel("The Colour of Magic", "Terry Pratchett", "1983", "Colin Smythe", genre="comic fantasy", series="Discworld", setting="Discworld")
novel("Mort", "Terry Pratchett", "1987", "Victor Gollancz", genre="comic fantasy", series="Discworld", setting="Discworld")
novel("Good Omens", "Terry Pratchett|Neil Gaiman", "1990", "Victor Gollancz", genre="comic fantasy", setting="England")
novel("American Gods", "Neil Gaiman", "2001", "William Morrow", genre="fantasy", setting="United States")
novel("The Shining (novel)", "Stephen King", "1977", "Doubleday", genre="horror", setting="Colorado")
novel("Carrie (novel)", "Stephen King", "1974", "Doubleday", genre="horror", setting="Maine")
novel("Misery (novel)", "Stephen King", "1987", "Viking Press", genre="psychological horror", setting="Colorado")
novel("Jurassic Park (novel)", "Michael Crichton", "1990", "Alfred A. Knopf", genre="science fiction", setting="Isla Nublar")
novel("Jaws (novel)", "Peter Benchley", "1974", "Doubleday", genre="thriller", setting="Amity Island")
novel("The Godfather (novel)", "Mario Puzo", "1969", "G. P. Putnam's Sons", genre="crime novel", setting="New York City")
novel("The Silence of the Lambs (novel)", "Thomas Harris", "1988", "St. Martin's Press", genre="thriller", series="Hannibal Lecter")
novel("Gone with the Wind (novel)", "Margaret Mitchell", "1936", "Macmillan", genre="historical novel", setting="Georgia")
novel("The Grapes of Wrath", "John Steinbeck", "1939", "Viking Press", setting="Oklahoma|California")
novel("Of Mice and Men", "John Steinbeck", "1937", "Covici Friede", kind="novella", genre="novella", setting="California")
novel("The Old Man and the Sea", "Ernest Hemingway", "1952", "Charles Scribner's Sons", kind="novella", genre="novella", setting="Cuba")
novel("A Farewell to Arms", "Ernest Hemingway", "1929", "Charles Scribner's Sons", genre="war novel", setting="Italy")
novel("Slaughterhouse-Five", "Kurt Vonnegut", "1969", "Delacorte", genre="satire|science fiction", setting="Dresden")
novel("Catch-22", "Joseph Heller", "1961", "Simon & Schuster", genre="satire|war novel", setting="Pianosa")
novel("Lolita", "Vladimir Nabokov", "1955", "Olympia Press", setting="United States")
novel("Things Fall Apart", "Chinua Achebe", "1958", "William Heinemann Ltd.", series="The African Trilogy", setting="Nigeria")
novel("Beloved", "Toni Morrison", "1987", "Alfred A. Knopf", genre="historical novel", setting="Ohio")
novel("The Color Purple", "Alice Walker", "1982", "Harcourt Brace Jovanovich", genre="epistolary novel", setting="Georgia")
novel("The Handmaid's Tale", "Margaret Atwood", "1985", "McClelland and Stewart", genre="dystopian novel", setting="Gilead")
novel("The Remains of the Day", "Kazuo Ishiguro", "1989", "Faber and Faber", setting="England")
novel("Alice's Adventures in Wonderland", "Lewis Carroll", "1865", "Macmillan", genre="fantasy", setting="Wonderland")
novel("Treasure Island", "Robert Louis Stevenson", "1883", "Cassell and Company", genre="adventure fiction")
novel("Strange Case of Dr Jekyll and Mr Hyde", "Robert Louis Stevenson", "1886", "Longmans, Green & Co.", kind="novella", genre="Gothic fiction", setting="London")
novel("The Picture of Dorian Gray", "Oscar Wilde", "1890", "Lippincott's Monthly Magazine", genre="Gothic fiction", setting="London")
novel("The Time Machine", "H. G. Wells", "1895", "William Heinemann", kind="novella", genre="science fiction")
novel("The War of the Worlds", "H. G. Wells", "1898", "William Heinemann", genre="science fiction", setting="England")
novel("The Hound of the Baskervilles", "Arthur Conan Doyle", "1902", "George Newnes", genre="detective fiction", series="Sherlock Holmes", setting="Dartmoor")
novel("Murder on the Orient Express", "Agatha Christie", "1934", "Collins Crime Club", genre="detective fiction", series="Hercule Poirot")
novel("The Murder of Roger Ackroyd", "Agatha Christie", "1926", "William Collins, Sons", genre="detective fiction", series="Hercule Poirot")
novel("And Then There Were None", "Agatha Christie", "1939", "Collins Crime Club", genre="mystery fiction", setting="Devon")
novel("Casino Royale (novel)", "Ian Fleming", "1953", "Jonathan Cape", genre="spy fiction", series="James Bond", setting="France")
novel("From Russia, with Love (novel)", "Ian Fleming", "1957", "Jonathan Cape", genre="spy fiction", series="James Bond")
novel("Dr. No (novel)", "Ian Fleming", "1958", "Jonathan Cape", genre="spy fiction", series="James Bond", setting="Jamaica")
novel("Goldfinger (novel)", "Ian Fleming", "1959", "Jonathan Cape", genre="spy fiction", series="James Bond")
novel("The Da Vinci Code", "Dan Brown", "2003", "Doubleday", genre="mystery thriller", series="Robert Langdon", setting="Paris")
novel("The Hunger Games", "Suzanne Collins", "2008", "Scholastic", genre="dystopian novel", series="The Hunger Games", setting="Panem")
novel("Twilight", "Stephenie Meyer", "2005", "Little, Brown and Company", genre="romance novel", series="The Twilight Saga", setting="Forks")
novel("Charlie and the Chocolate Factory", "Roald Dahl", "1964", "Alfred A. Knopf", genre="children's literature")
novel("Matilda", "Roald Dahl", "1988", "Jonathan Cape", genre="children's literature")
novel("Watership Down", "Richard Adams", "1972", "Rex Collings", genre="fantasy", setting="Hampshire")
novel("The Jungle Book", "Rudyard Kipling", "1894", "Macmillan", kind="short story collection", genre="children's literature", setting="India")
novel("Robinson Crusoe", "Daniel Defoe", "1719", "William Taylor", genre="adventure fiction")
novel("Gulliver's Travels", "Jonathan Swift", "1726", "Benjamin Motte", genre="satire")
novel("The Scarlet Letter", "Nathaniel Hawthorne", "1850", "Ticknor, Reed & Fields", genre="historical novel", setting="Boston")
novel("Little Women", "Louisa May Alcott", "1868", "Roberts Brothers", genre="coming-of-age story", setting="Concord")
novel("The Call of the Wild", "Jack London", "1903", "Macmillan", genre="adventure fiction", setting="Yukon")
novel("The Wonderful Wizard of Oz", "L. Frank Baum", "1900", "George M. Hill Company", genre="children's literature", series="Oz", setting="Land of Oz")
novel("Anne of Green Gables", "L. M. Montgomery", "1908", "L. C. Page & Co.", genre="children's literature", setting="Prince Edward Island")
novel("Rebecca (novel)", "Daphne du Maurier", "1938", "Victor Gollancz", genre="Gothic fiction", setting="Cornwall")
novel("A Clockwork Orange (novel)", "Anthony Burgess", "1962", "William Heinemann", genre="dystopian novel")
novel("Atonement (novel)", "Ian McEwan", "2001", "Jonathan Cape", setting="England")
novel("Life of Pi (novel)", "Yann Martel", "2001", "Knopf Canada", genre="adventure fiction", setting="Pacific Ocean")
novel("The Road", "Cormac McCarthy", "2006", "Alfred A. Knopf", genre="post-apocalyptic fiction")
novel("No Country for Old Men (novel)", "Cormac McCarthy", "2005", "Alfred A. Knopf", genre="crime novel", setting="Texas")
novel("The Kite Runner", "Khaled Hosseini", "2003", "Riverhead Books", setting="Kabul")
novel("Gone Girl (novel)", "Gillian Flynn", "2012", "Crown Publishing Group", genre="thriller", setting="Missouri")
novel("Fight Club (novel)", "Chuck Palahniuk", "1996", "W. W. Norton & Company")
novel("The Martian (novel)", "Andy Weir", "2011", genre="science fiction", setting="Mars")
novel("Hamlet", "William Shakespeare", "1603", kind="play", genre="tragedy", setting="Denmark")
novel("Romeo and Juliet", "William Shakespeare", "1597", kind="play", genre="tragedy", setting="Verona")

# ---- films ---------------------------------------------------------------------------------
film("The Godfather (film)", "Francis Ford Coppola", "1972", cast="Marlon Brando|Al Pacino|James Caan", composer="Nino Rota", screenwriter="Mario Puzo|Francis Ford Coppola", producer="Albert S. Ruddy", distributor="Paramount Pictures", genre="crime film", series="The Godfather", setting="New York City")
film("The Godfather Part II", "Francis Ford Coppola", "1974", cast="Al Pacino|Robert De Niro", composer="Nino Rota|Carmine Coppola", distributor="Paramount Pictures", genre="crime film", series="The Godfather")
film("Apocalypse Now", "Francis Ford Coppola", "1979", cast="Martin Sheen|Marlon Brando", composer="Carmine Coppola", screenwriter="John Milius", distributor="United Artists", genre="war film", setting="Vietnam", filmed="Philippines")
film("Casablanca", "Michael Curtiz", "1942", cast="Humphrey Bogart|Ingrid Bergman", composer="Max Steiner", producer="Hal B. Wallis", screenwriter="Julius J. Epstein|Philip G. Epstein|Howard Koch", distributor="Warner Bros.")
film("Citizen Kane", "Orson Welles", "1941", cast="Orson Welles|Joseph Cotten", composer="Bernard Herrmann", screenwriter="Herman J. Mankiewicz", cinematographer="Gregg Toland", distributor="RKO Radio Pictures", genre="drama film")
film("Gone with the Wind (film)", "Victor Fleming", "1939", cast="Clark Gable|Vivien Leigh", composer="Max Steiner", producer="David O. Selznick", distributor="Metro-Goldwyn-Mayer", setting="Georgia")
film("The Wizard of Oz", "Victor Fleming", "1939", cast="Judy Garland", composer="Herbert Stothart", producer="Mervyn LeRoy", distributor="Metro-Goldwyn-Mayer", genre="musical film")
film("Star Wars", "George Lucas", "25 May 1977", cast="Mark Hamill|Harrison Ford|Carrie Fisher", composer="John Williams", producer="Gary Kurtz", distributor="20th Century Fox", genre="space opera", series="Star Wars", filmed="Tunisia")
film("The Empire Strikes Back", "Irvin Kershner", "1980", cast="Mark Hamill|Harrison Ford|Carrie Fisher", composer="John Williams", screenwriter="Leigh Brackett|Lawrence Kasdan", producer="Gary Kurtz", distributor="20th Century Fox", genre="space opera", series="Star Wars", filmed="Norway")
film("Raiders of the Lost Ark", "Steven Spielberg", "1981", cast="Harrison Ford|Karen Allen", composer="John Williams", screenwriter="Lawrence Kasdan", producer="Frank Marshall", distributor="Paramount Pictures", genre="adventure film", series="Indiana Jones")
film("Jaws (film)", "Steven Spielberg", "1975", cast="Roy Scheider|Robert Shaw|Richard Dreyfuss", composer="John Williams", screenwriter="Peter Benchley|Carl Gottlieb", producer="Richard D. Zanuck|David Brown", distributor="Universal Pictures", filmed="Martha's Vineyard")
film("E.T. the Extra-Terrestrial", "Steven Spielberg", "1982", cast="Henry Thomas|Drew Barrymore", composer="John Williams", screenwriter="Melissa Mathison", producer="Kathleen Kennedy", distributor="Universal Pictures", genre="science fiction film")
film("Jurassic Park (film)", "Steven Spielberg", "1993", cast="Sam Neill|Laura Dern|Jeff Goldblum", composer="John Williams", screenwriter="Michael Crichton|David Koepp", producer="Kathleen Kennedy|Gerald R. Molen", distributor="Universal Pictures", series="Jurassic Park", filmed="Hawaii")
film("Schindler's List", "Steven Spielberg", "1993", cast="Liam Neeson|Ben Kingsley|Ralph Fiennes", composer="John Williams", screenwriter="Steven Zaillian", distributor="Universal Pictures", genre="historical drama", setting="Kraków")
film("Saving Private Ryan", "Steven Spielberg", "1998", cast="Tom Hanks|Matt Damon", composer="John Williams", screenwriter="Robert Rodat", distributor="DreamWorks Pictures", genre="war film", setting="Normandy", filmed="Ireland")
film("Pulp Fiction", "Quentin Tarantino", "1994", cast="John Travolta|Samuel L. Jackson|Uma Thurman", screenwriter="Quentin Tarantino|Roger Avary", producer="Lawrence Bender", distributor="Miramax Films", genre="crime film", setting="Los Angeles")
film("Inglourious Basterds", "Quentin Tarantino", "2009", cast="Brad Pitt|Christoph Waltz|Mélanie Laurent", producer="Lawrence Bender", distributor="The Weinstein Company|Universal Pictures", genre="war film", setting="France")
film("The Shawshank Redemption", "Frank Darabont", "1994", cast="Tim Robbins|Morgan Freeman", composer="Thomas Newman", producer="Niki Marvin", cinematographer="Roger Deakins", distributor="Columbia Pictures", genre="drama film", setting="Maine", filmed="Ohio")
film("The Green Mile (film)", "Frank Darabont", "1999", cast="Tom Hanks|Michael Clarke Duncan", composer="Thomas Newman", distributor="Warner Bros.", setting="Louisiana")
film("Forrest Gump", "Robert Zemeckis", "1994", cast="Tom Hanks|Robin Wright", composer="Alan Silvestri", screenwriter="Eric Roth", distributor="Paramount Pictures", genre="comedy-drama")
film("Back to the Future", "Robert Zemeckis", "1985", cast="Michael J. Fox|Christopher Lloyd", composer="Alan Silvestri", screenwriter="Bob Gale|Robert Zemeckis", producer="Bob Gale|Neil Canton", distributor="Universal Pictures", genre="science fiction comedy", series="Back to the Future", setting="California")
film("Titanic (1997 film)", "James Cameron", "1997", cast="Leonardo DiCaprio|Kate Winslet", composer="James Horner", screenwriter="James Cameron", distributor="Paramount Pictures|20th Century Fox", genre="romance film", setting="North Atlantic Ocean")
film("The Terminator", "James Cameron", "1984", cast="Arnold Schwarzenegger|Linda Hamilton", composer="Brad Fiedel", producer="Gale Anne Hurd", distributor="Orion Pictures", genre="science fiction film", series="Terminator", setting="Los Angeles")
film("Aliens", "James Cameron", "1986", cast="Sigourney Weaver", composer="James Horner", producer="Gale Anne Hurd", distributor="20th Century Fox", genre="science fiction film", series="Alien")
film("Alien", "Ridley Scott", "1979", cast="Sigourney Weaver|Tom Skerritt", composer="Jerry Goldsmith", screenwriter="Dan O'Bannon", distributor="20th Century Fox", genre="science fiction horror", series="Alien")
film("Blade Runner", "Ridley Scott", "1982", cast="Harrison Ford|Rutger Hauer", composer="Vangelis", screenwriter="Hampton Fancher|David Peoples", producer="Michael Deeley", distributor="Warner Bros.", genre="science fiction film", series="Blade Runner", setting="Los Angeles")
film("Gladiator", "Ridley Scott", "2000", cast="Russell Crowe|Joaquin Phoenix", composer="Hans Zimmer", screenwriter="David Franzoni", distributor="DreamWorks Pictures", genre="historical epic", setting="Rome")
film("The Martian (film)", "Ridley Scott", "2015", cast="Matt Damon", composer="Harry Gregson-Williams", screenwriter="Drew Goddard", distributor="20th Century Fox", genre="science fiction film", setting="Mars")
film("2001: A Space Odyssey (film)", "Stanley Kubrick", "1968", cast="Keir Dullea", screenwriter="Arthur C. Clarke", cinematographer="Geoffrey Unsworth", distributor="Metro-Goldwyn-Mayer", genre="science fiction film")
film("A Clockwork Orange (film)", "Stanley Kubrick", "1971", cast="Malcolm McDowell", composer="Wendy Carlos", distributor="Warner Bros.", genre="dystopian film")
film("The Shining (film)", "Stanley Kubrick", "1980", cast="Jack Nicholson|Shelley Duvall", composer="Wendy Carlos|Rachel Elkind", screenwriter="Diane Johnson", distributor="Warner Bros.", genre="horror film", setting="Colorado")
film("Psycho", "Alfred Hitchcock", "1960", cast="Anthony Perkins|Janet Leigh", composer="Bernard Herrmann", screenwriter="Joseph Stefano", distributor="Paramount Pictures", genre="horror film")
film("Vertigo", "Alfred Hitchcock", "1958", cast="James Stewart|Kim Novak", composer="Bernard Herrmann", distributor="Paramount Pictures", genre="thriller film", setting="San Francisco")
film("Rebecca (1940 film)", "Alfred Hitchcock", "1940", cast="Laurence Olivier|Joan Fontaine", composer="Franz Waxman", producer="David O. Selznick", distributor="United Artists")
film("The Dark Knight", "Christopher Nolan", "2008", cast="Christian Bale|Heath Ledger", composer="Hans Zimmer|James Newton Howard", screenwriter="Jonathan Nolan|Christopher Nolan", producer="Emma Thomas", distributor="Warner Bros.", genre="superhero film", series="The Dark Knight Trilogy", setting="Gotham City")
film("Inception", "Christopher Nolan", "2010", cast="Leonardo DiCaprio|Joseph Gordon-Levitt", composer="Hans Zimmer", producer="Emma Thomas", distributor="Warner Bros.", genre="science fiction film")
film("Goodfellas", "Martin Scorsese", "1990", cast="Robert De Niro|Ray Liotta|Joe Pesci", screenwriter="Nicholas Pileggi", producer="Irwin Winkler", distributor="Warner Bros.", genre="crime film", setting="New York City")
film("Taxi Driver", "Martin Scorsese", "1976", cast="Robert De Niro|Jodie Foster", composer="Bernard Herrmann", screenwriter="Paul Schrader", distributor="Columbia Pictures", setting="New York City")
film("The Departed", "Martin Scorsese", "2006", cast="Leonardo DiCaprio|Matt Damon|Jack Nicholson", composer="Howard Shore", screenwriter="William Monahan", distributor="Warner Bros.", genre="crime film", setting="Boston")
film("Fargo", "Joel Coen", "1996", cast="Frances McDormand|William H. Macy", composer="Carter Burwell", screenwriter="Ethan Coen|Joel Coen", producer="Ethan Coen", distributor="Gramercy Pictures", genre="crime film", setting="Minnesota")
film("No Country for Old Men (film)", "Joel Coen|Ethan Coen", "2007", cast="Tommy Lee Jones|Javier Bardem|Josh Brolin", composer="Carter Burwell", distributor="Miramax Films|Paramount Vantage", genre="crime film", setting="Texas")
film("The Lord of the Rings: The Fellowship of the Ring", "Peter Jackson", "2001", cast="Elijah Wood|Ian McKellen|Viggo Mortensen", composer="Howard Shore", screenwriter="Fran Walsh|Philippa Boyens|Peter Jackson", distributor="New Line Cinema", genre="fantasy film", series="The Lord of the Rings", filmed="New Zealand")
film("The Matrix", "Lana Wachowski|Lilly Wachowski", "1999", cast="Keanu Reeves|Laurence Fishburne|Carrie-Anne Moss", composer="Don Davis", producer="Joel Silver", distributor="Warner Bros.", genre="science fiction film", series="The Matrix", filmed="Australia")
film("Fight Club (film)", "David Fincher", "1999", cast="Brad Pitt|Edward Norton", composer="The Dust Brothers", screenwriter="Jim Uhls", distributor="20th Century Fox")
film("The Social Network", "David Fincher", "2010", cast="Jesse Eisenberg|Andrew Garfield", composer="Trent Reznor|Atticus Ross", screenwriter="Aaron Sorkin", distributor="Columbia Pictures", genre="biographical film")
film("Gone Girl (film)", "David Fincher", "2014", cast="Ben Affleck|Rosamund Pike", composer="Trent Reznor|Atticus Ross", screenwriter="Gillian Flynn", distributor="20th Century Fox", genre="thriller film", setting="Missouri")
film("The Silence of the Lambs (film)", "Jonathan Demme", "1991", cast="Jodie Foster|Anthony Hopkins", composer="Howard Shore", screenwriter="Ted Tally", distributor="Orion Pictures", genre="thriller film", series="Hannibal Lecter")
film("One Flew Over the Cuckoo's Nest", "Miloš Forman", "1975", cast="Jack Nicholson|Louise Fletcher", composer="Jack Nitzsche", producer="Saul Zaentz|Michael Douglas", distributor="United Artists", setting="Oregon")
film("Lawrence of Arabia", "David Lean", "1962", cast="Peter O'Toole|Omar Sharif", composer="Maurice Jarre", screenwriter="Robert Bolt|Michael Wilson", producer="Sam Spiegel", distributor="Columbia Pictures", genre="epic film", filmed="Jordan|Spain|Morocco")
film("Doctor Zhivago (film)", "David Lean", "1965", cast="Omar Sharif|Julie Christie", composer="Maurice Jarre", screenwriter="Robert Bolt", producer="Carlo Ponti", distributor="Metro-Goldwyn-Mayer", setting="Russia", filmed="Spain")
film("Chinatown", "Roman Polanski", "1974", cast="Jack Nicholson|Faye Dunaway", composer="Jerry Goldsmith", screenwriter="Robert Towne", producer="Robert Evans", distributor="Paramount Pictures", genre="neo-noir", setting="Los Angeles")
film("Annie Hall", "Woody Allen", "1977", cast="Woody Allen|Diane Keaton", screenwriter="Marshall Brickman", distributor="United Artists", genre="romantic comedy", setting="New York City")
film("Seven Samurai", "Akira Kurosawa", "1954", "Japanese", cast="Toshiro Mifune|Takashi Shimura", composer="Fumio Hayasaka", distributor="Toho", genre="jidaigeki")
film("Rashomon", "Akira Kurosawa", "1950", "Japanese", cast="Toshiro Mifune|Machiko Kyō", composer="Fumio Hayasaka", distributor="Daiei Film", genre="jidaigeki")
film("Spirited Away", "Hayao Miyazaki", "2001", "Japanese", composer="Joe Hisaishi", producer="Toshio Suzuki", distributor="Toho", genre="animated film")
film("Howl's Moving Castle", "Hayao Miyazaki", "2004", "Japanese", composer="Joe Hisaishi", producer="Toshio Suzuki", distributor="Toho", genre="animated film")
film("La Dolce Vita", "Federico Fellini", "1960", "Italian", cast="Marcello Mastroianni|Anita Ekberg", composer="Nino Rota", genre="comedy-drama", setting="Rome")
film("Bicycle Thieves", "Vittorio De Sica", "1948", "Italian", cast="Lamberto Maggiorani", composer="Alessandro Cicognini", genre="neorealism", setting="Rome")
film("The Good, the Bad and the Ugly", "Sergio Leone", "1966", "Italian", cast="Clint Eastwood|Eli Wallach|Lee Van Cleef", composer="Ennio Morricone", producer="Alberto Grimaldi", distributor="United Artists", genre="spaghetti Western", filmed="Spain")
film("Life Is Beautiful", "Roberto Benigni", "1997", "Italian", cast="Roberto Benigni|Nicoletta Braschi", composer="Nicola Piovani", screenwriter="Vincenzo Cerami", distributor="Miramax Films", genre="comedy-drama")
film("Breathless", "Jean-Luc Godard", "1960", "French", cast="Jean-Paul Belmondo|Jean Seberg", composer="Martial Solal", screenwriter="François Truffaut", genre="crime film", setting="Paris")
film("Amélie", "Jean-Pierre Jeunet", "2001", "French", cast="Audrey Tautou", composer="Yann Tiersen", genre="romantic comedy", setting="Paris")
film("The Intouchables", "Olivier Nakache|Éric Toledano", "2011", "French", cast="François Cluzet|Omar Sy", composer="Ludovico Einaudi", distributor="Gaumont", genre="comedy-drama", setting="Paris")
film("Metropolis", "Fritz Lang", "1927", "German", cast="Brigitte Helm", composer="Gottfried Huppertz", screenwriter="Thea von Harbou", distributor="UFA", genre="science fiction film")
film("The Lives of Others", "Florian Henckel von Donnersmarck", "2006", "German", cast="Ulrich Mühe", composer="Gabriel Yared|Stéphane Moucha", genre="drama film", setting="East Berlin")
film("Nosferatu", "F. W. Murnau", "1922", "German", cast="Max Schreck", genre="horror film")
film("Pan's Labyrinth", "Guillermo del Toro", "2006", "Spanish", cast="Ivana Baquero|Sergi López", composer="Javier Navarrete", genre="fantasy film", setting="Spain")
film("Crouching Tiger, Hidden Dragon", "Ang Lee", "2000", "Mandarin Chinese", distributor="Sony Pictures Classics", genre="wuxia")
film("Brokeback Mountain", "Ang Lee", "2005", cast="Heath Ledger|Jake Gyllenhaal", composer="Gustavo Santaolalla", screenwriter="Larry McMurtry|Diana Ossana", distributor="Focus Features", genre="romance film", setting="Wyoming")
film("Sense and Sensibility (film)", "Ang Lee", "1995", cast="Emma Thompson|Kate Winslet", composer="Patrick Doyle", screenwriter="Emma Thompson", distributor="Columbia Pictures", genre="period drama")
film("Slumdog Millionaire", "Danny Boyle", "2008", cast="Dev Patel|Freida Pinto", composer="A. R. Rahman", screenwriter="Simon Beaufoy", genre="drama film", setting="Mumbai")
film("The Sound of Music (film)", "Robert Wise", "1965", cast="Julie Andrews|Christopher Plummer", composer="Richard Rodgers", screenwriter="Ernest Lehman", distributor="20th Century Fox", genre="musical film", setting="Salzburg", filmed="Salzburg")
film("Singin' in the Rain", "Gene Kelly|Stanley Donen", "1952", cast="Gene Kelly|Debbie Reynolds", screenwriter="Betty Comden|Adolph Green", producer="Arthur Freed", distributor="Metro-Goldwyn-Mayer", genre="musical film")
film("Some Like It Hot", "Billy Wilder", "1959", cast="Marilyn Monroe|Tony Curtis|Jack Lemmon", composer="Adolph Deutsch", screenwriter="I. A. L. Diamond", distributor="United Artists", genre="comedy film")
film("Sunset Boulevard", "Billy Wilder", "1950", cast="Gloria Swanson|William Holden", composer="Franz Waxman", screenwriter="Charles Brackett", distributor="Paramount Pictures", genre="film noir", setting="Los Angeles")
film("Double Indemnity", "Billy Wilder", "1944", cast="Fred MacMurray|Barbara Stanwyck", composer="Miklós Rózsa", screenwriter="Raymond Chandler", distributor="Paramount Pictures", genre="film noir", setting="Los Angeles")
film("It's a Wonderful Life", "Frank Capra", "1946", cast="James Stewart|Donna Reed", composer="Dimitri Tiomkin", distributor="RKO Radio Pictures", genre="fantasy film")
film("The Maltese Falcon", "John Huston", "1941", cast="Humphrey Bogart|Mary Astor", composer="Adolph Deutsch", distributor="Warner Bros.", genre="film noir", setting="San Francisco")
film("Roman Holiday", "William Wyler", "1953", cast="Audrey Hepburn|Gregory Peck", distributor="Paramount Pictures", genre="romantic comedy", setting="Rome")
film("Breakfast at Tiffany's", "Blake Edwards", "1961", cast="Audrey Hepburn|George Peppard", composer="Henry Mancini", distributor="Paramount Pictures", genre="romantic comedy", setting="New York City")
film("Rocky", "John G. Avildsen", "1976", cast="Sylvester Stallone|Talia Shire", composer="Bill Conti", producer="Irwin Winkler|Robert Chartoff", distributor="United Artists", genre="sports film", series="Rocky", setting="Philadelphia")
film("Mad Max: Fury Road", "George Miller", "2015", cast="Tom Hardy|Charlize Theron", distributor="Warner Bros.", genre="action film", series="Mad Max", filmed="Namibia")
film("The Exorcist", "William Friedkin", "1973", cast="Ellen Burstyn|Linda Blair", screenwriter="William Peter Blatty", distributor="Warner Bros.", genre="horror film", setting="Washington, D.C.")
film("Halloween", "John Carpenter", "1978", cast="Jamie Lee Curtis|Donald Pleasence", composer="John Carpenter", screenwriter="Debra Hill", genre="horror film", setting="Illinois")
film("Toy Story", "John Lasseter", "1995", cast="Tom Hanks|Tim Allen", composer="Randy Newman", distributor="Buena Vista Pictures", genre="animated film", series="Toy Story")
film("Finding Nemo", "Andrew Stanton", "2003", cast="Albert Brooks|Ellen DeGeneres", composer="Thomas Newman", distributor="Buena Vista Pictures", genre="animated film", setting="Great Barrier Reef")
film("The Lion King", "Roger Allers|Rob Minkoff", "1994", cast="Matthew Broderick|James Earl Jones", composer="Hans Zimmer", distributor="Buena Vista Pictures", genre="animated film", setting="Africa")
film("Snow White and the Seven Dwarfs", "David Hand", "1937", cast="Adriana Caselotti", composer="Frank Churchill", producer="Walt Disney", distributor="RKO Radio Pictures", genre="animated film")
film("Frozen", "Chris Buck|Jennifer Lee", "2013", cast="Kristen Bell|Idina Menzel", composer="Christophe Beck", distributor="Walt Disney Studios Motion Pictures", genre="animated film")
film("The Usual Suspects", "Bryan Singer", "1995", cast="Kevin Spacey|Gabriel Byrne", composer="John Ottman", film_editor="John Ottman", screenwriter="Christopher McQuarrie", distributor="Gramercy Pictures", genre="crime film")
film("Skyfall", "Sam Mendes", "2012", cast="Daniel Craig|Judi Dench", composer="Thomas Newman", producer="Michael G. Wilson|Barbara Broccoli", distributor="Sony Pictures Releasing", genre="spy film", series="James Bond")
film("Casino Royale (2006 film)", "Martin Campbell", "2006", cast="Daniel Craig|Eva Green", composer="David Arnold", distributor="Sony Pictures Releasing", genre="spy film", series="James Bond")
film("Dr. No (film)", "Terence Young", "1962", cast="Sean Connery|Ursula Andress", composer="Monty Norman", distributor="United Artists", genre="spy film", series="James Bond", setting="Jamaica")
film("Goldfinger (film)", "Guy Hamilton", "1964", cast="Sean Connery|Honor Blackman", composer="John Barry", distributor="United Artists", genre="spy film", series="James Bond")
film("Unforgiven", "Clint Eastwood", "1992", cast="Clint Eastwood|Gene Hackman|Morgan Freeman", composer="Lennie Niehaus", screenwriter="David Webb Peoples", distributor="Warner Bros.", genre="Western")
film("Platoon", "Oliver Stone", "1986", cast="Charlie Sheen|Tom Berenger|Willem Dafoe", composer="Georges Delerue", distributor="Orion Pictures", genre="war film", setting="Vietnam", filmed="Philippines")
film("Braveheart", "Mel Gibson", "1995", cast="Mel Gibson|Sophie Marceau", composer="James Horner", screenwriter="Randall Wallace", distributor="Paramount Pictures", genre="historical epic", setting="Scotland", filmed="Ireland")
film("The Sixth Sense", "M. Night Shyamalan", "1999", cast="Bruce Willis|Haley Joel Osment", composer="James Newton Howard", distributor="Buena Vista Pictures", genre="horror film", setting="Philadelphia")
film("Die Hard", "John McTiernan", "1988", cast="Bruce Willis|Alan Rickman", composer="Michael Kamen", producer="Lawrence Gordon|Joel Silver", distributor="20th Century Fox", genre="action film", series="Die Hard", setting="Los Angeles")
film("Ghostbusters", "Ivan Reitman", "1984", cast="Bill Murray|Dan Aykroyd|Sigourney Weaver", composer="Elmer Bernstein", screenwriter="Dan Aykroyd|Harold Ramis", distributor="Columbia Pictures", genre="comedy film", setting="New York City")
film("Groundhog Day", "Harold Ramis", "1993", cast="Bill Murray|Andie MacDowell", composer="George Fenton", screenwriter="Danny Rubin", distributor="Columbia Pictures", genre="comedy film", setting="Punxsutawney")
film("Dune (1984 film)", "David Lynch", "1984", cast="Kyle MacLachlan", composer="Toto", producer="Raffaella De Laurentiis", distributor="Universal Pictures", genre="science fiction film", setting="Arrakis")
film("Dune (2021 film)", "Denis Villeneuve", "2021", cast="Timothée Chalamet|Rebecca Ferguson", composer="Hans Zimmer", distributor="Warner Bros.", genre="science fiction film", setting="Arrakis", filmed="Jordan|United Arab Emirates")
film("Arrival", "Denis Villeneuve", "2016", cast="Amy Adams|Jeremy Renner", composer="Jóhann Jóhannsson", screenwriter="Eric Heisserer", distributor="Paramount Pictures", genre="science fiction film", setting="Montana")
film("Solaris (1972 film)", "Andrei Tarkovsky", "1972", "Russian", cast="Donatas Banionis|Natalya Bondarchuk", composer="Eduard Artemyev", genre="science fiction film")
film("Solaris (2002 film)", "Steven Soderbergh", "2002", cast="George Clooney|Natascha McElhone", composer="Cliff Martinez", distributor="20th Century Fox", genre="science fiction film")
film("The King's Speech", "Tom Hooper", "2010", cast="Colin Firth|Geoffrey Rush", composer="Alexandre Desplat", screenwriter="David Seidler", genre="historical drama", setting="London")
film("La La Land", "Damien Chazelle", "2016", cast="Ryan Gosling|Emma Stone", composer="Justin Hurwitz", distributor="Lionsgate", genre="musical film", setting="Los Angeles")
film("Black Panther", "Ryan Coogler", "2018", cast="Chadwick Boseman|Michael B. Jordan", composer="Ludwig Göransson", producer="Kevin Feige", distributor="Walt Disney Studios Motion Pictures", genre="superhero film", series="Marvel Cinematic Universe", setting="Wakanda")
film("Pirates of the Caribbean: The Curse of the Black Pearl", "Gore Verbinski", "2003", cast="Johnny Depp|Orlando Bloom|Keira Knightley", composer="Klaus Badelt", producer="Jerry Bruckheimer", distributor="Buena Vista Pictures", genre="fantasy film", series="Pirates of the Caribbean", setting="Caribbean")
film("Atonement (film)", "Joe Wright", "2007", cast="Keira Knightley|James McAvoy", composer="Dario Marianelli", screenwriter="Christopher Hampton", distributor="Focus Features", genre="romance film", setting="England")
film("Frankenstein (1931 film)", "James Whale", "1931", cast="Boris Karloff|Colin Clive", producer="Carl Laemmle Jr.", distributor="Universal Pictures", genre="horror film")
film("Dracula (1931 film)", "Tod Browning", "1931", cast="Bela Lugosi", producer="Carl Laemmle Jr.", distributor="Universal Pictures", genre="horror film")
film("The Seventh Seal", "Ingmar Bergman", "1957", "Swedish", cast="Max von Sydow", composer="Erik Nordgren", distributor="AB Svensk Filmindustri", genre="drama film")
film("City of God", "Fernando Meirelles|Kátia Lund", "2002", "Portuguese", cast="Alexandre Rodrigues", distributor="Miramax Films", genre="crime film", setting="Rio de Janeiro")
film("The Grand Budapest Hotel", "Wes Anderson", "2014", cast="Ralph Fiennes|Tony Revolori", composer="Alexandre Desplat", distributor="Fox Searchlight Pictures", genre="comedy film", filmed="Germany")
film("There Will Be Blood", "Paul Thomas Anderson", "2007", cast="Daniel Day-Lewis|Paul Dano", composer="Jonny Greenwood", distributor="Paramount Vantage", genre="drama film", setting="California")
film("12 Angry Men", "Sidney Lumet", "1957", cast="Henry Fonda|Lee J. Cobb", composer="Kenyon Hopkins", screenwriter="Reginald Rose", distributor="United Artists", genre="courtroom drama")
film("Carrie (1976 film)", "Brian De Palma", "1976", cast="Sissy Spacek|Piper Laurie", composer="Pino Donaggio", screenwriter="Lawrence D. Cohen", distributor="United Artists", genre="horror film")
film("Misery (film)", "Rob Reiner", "1990", cast="James Caan|Kathy Bates", composer="Marc Shaiman", screenwriter="William Goldman", distributor="Columbia Pictures", genre="psychological thriller", setting="Colorado")
film("The Princess Bride", "Rob Reiner", "1987", cast="Cary Elwes|Robin Wright", composer="Mark Knopfler", screenwriter="William Goldman", distributor="20th Century Fox", genre="fantasy film")

# ---- video games ---------------------------------------------------------------------------
game("Super Mario Bros.", "Nintendo", "1985-09-13", genre="platform game", series="Super Mario", director="Shigeru Miyamoto", composer="Koji Kondo", publisher="Nintendo")
game("The Legend of Zelda", "Nintendo", "1986", genre="action-adventure game", series="The Legend of Zelda", director="Shigeru Miyamoto|Takashi Tezuka", composer="Koji Kondo")
game("The Legend of Zelda: Ocarina of Time", "Nintendo EAD", "1998", publisher="Nintendo", genre="action-adventure game", series="The Legend of Zelda", composer="Koji Kondo")
game("The Legend of Zelda: Breath of the Wild", "Nintendo EPD", "2017", publisher="Nintendo", genre="action-adventure game", series="The Legend of Zelda", director="Hidemaro Fujibayashi")
game("Super Mario 64", "Nintendo EAD", "1996", publisher="Nintendo", genre="platform game", series="Super Mario", director="Shigeru Miyamoto", composer="Koji Kondo")
game("Pokémon Red and Blue", "Game Freak", "1996", publisher="Nintendo", genre="role-playing video game", series="Pokémon", director="Satoshi Tajiri", composer="Junichi Masuda")
game("Metroid", "Nintendo", "1986", genre="action-adventure game", series="Metroid", composer="Hirokazu Tanaka")
game("Half-Life", "Valve", "1998", publisher="Sierra Studios", genre="first-person shooter", series="Half-Life", composer="Kelly Bailey")
game("Half-Life 2", "Valve", "2004", genre="first-person shooter", series="Half-Life", composer="Kelly Bailey")
game("Portal 2", "Valve", "2011", genre="puzzle-platform game", series="Portal", composer="Mike Morasky")
game("Doom", "id Software", "1993", publisher="id Software", genre="first-person shooter", series="Doom", composer="Bobby Prince")
game("Quake", "id Software", "1996", publisher="GT Interactive", genre="first-person shooter", series="Quake", composer="Trent Reznor")
game("Wolfenstein 3D", "id Software", "1992", publisher="Apogee Software", genre="first-person shooter", series="Wolfenstein", composer="Bobby Prince")
game("The Elder Scrolls V: Skyrim", "Bethesda Game Studios", "2011", publisher="Bethesda Softworks", genre="action role-playing game", series="The Elder Scrolls", director="Todd Howard", composer="Jeremy Soule")
game("The Elder Scrolls IV: Oblivion", "Bethesda Game Studios", "2006", publisher="Bethesda Softworks", genre="action role-playing game", series="The Elder Scrolls", director="Todd Howard", composer="Jeremy Soule")
game("Fallout 3", "Bethesda Game Studios", "2008", publisher="Bethesda Softworks", genre="action role-playing game", series="Fallout", director="Todd Howard", composer="Inon Zur")
game("Fallout", "Interplay Productions", "1997", genre="role-playing video game", series="Fallout", composer="Mark Morgan")
game("Grand Theft Auto V", "Rockstar North", "2013", publisher="Rockstar Games", genre="action-adventure game", series="Grand Theft Auto", setting="Los Santos")
game("Grand Theft Auto: San Andreas", "Rockstar North", "2004", publisher="Rockstar Games", genre="action-adventure game", series="Grand Theft Auto", setting="San Andreas")
game("Grand Theft Auto: Vice City", "Rockstar North", "2002", publisher="Rockstar Games", genre="action-adventure game", series="Grand Theft Auto", setting="Vice City")
game("Red Dead Redemption", "Rockstar San Diego", "2010", publisher="Rockstar Games", genre="action-adventure game", series="Red Dead")
game("Halo: Combat Evolved", "Bungie", "2001", publisher="Microsoft Game Studios", genre="first-person shooter", series="Halo", composer="Martin O'Donnell|Michael Salvatori")
game("Halo 3", "Bungie", "2007", publisher="Microsoft Game Studios", genre="first-person shooter", series="Halo", composer="Martin O'Donnell|Michael Salvatori")
game("Metal Gear Solid", "Konami Computer Entertainment Japan", "1998", publisher="Konami", genre="stealth game", series="Metal Gear", director="Hideo Kojima")
game("Final Fantasy VII", "Square", "1997", genre="role-playing video game", series="Final Fantasy", director="Yoshinori Kitase", composer="Nobuo Uematsu")
game("Final Fantasy", "Square", "1987", genre="role-playing video game", series="Final Fantasy", director="Hironobu Sakaguchi", composer="Nobuo Uematsu")
game("Final Fantasy X", "Square", "2001", genre="role-playing video game", series="Final Fantasy", director="Motomu Toriyama", composer="Nobuo Uematsu")
game("Chrono Trigger", "Square", "1995", genre="role-playing video game", composer="Yasunori Mitsuda")
game("Resident Evil", "Capcom", "1996", publisher="Capcom", genre="survival horror", series="Resident Evil", director="Shinji Mikami")
game("Resident Evil 4", "Capcom", "2005", genre="survival horror", series="Resident Evil", director="Shinji Mikami")
game("Street Fighter II", "Capcom", "1991", genre="fighting game", series="Street Fighter", composer="Yoko Shimomura")
game("Sonic the Hedgehog", "Sonic Team", "1991", publisher="Sega", genre="platform game", series="Sonic the Hedgehog", composer="Masato Nakamura")
game("Pac-Man", "Namco", "1980", publisher="Namco", genre="maze game", series="Pac-Man", composer="Toshio Kai")
game("StarCraft", "Blizzard Entertainment", "1998", genre="real-time strategy", series="StarCraft", composer="Derek Duke|Glenn Stafford")
game("Warcraft III: Reign of Chaos", "Blizzard Entertainment", "2002", genre="real-time strategy", series="Warcraft")
game("World of Warcraft", "Blizzard Entertainment", "2004", genre="massively multiplayer online role-playing game", series="Warcraft")
game("Diablo II", "Blizzard North", "2000", publisher="Blizzard Entertainment", genre="action role-playing game", series="Diablo", composer="Matt Uelmen")
game("The Witcher 3: Wild Hunt", "CD Projekt Red", "2015", publisher="CD Projekt", genre="action role-playing game", series="The Witcher", director="Konrad Tomaszkiewicz", composer="Marcin Przybyłowicz")
game("Dark Souls", "FromSoftware", "2011", publisher="Namco Bandai Games", genre="action role-playing game", series="Dark Souls", director="Hidetaka Miyazaki", composer="Motoi Sakuraba")
game("Elden Ring", "FromSoftware", "2022", publisher="Bandai Namco Entertainment", genre="action role-playing game", director="Hidetaka Miyazaki")
game("BioShock", "2K Boston", "2007", publisher="2K Games", genre="first-person shooter", series="BioShock", director="Ken Levine", composer="Garry Schyman", setting="Rapture")
game("Mass Effect", "BioWare", "2007", publisher="Microsoft Game Studios", genre="action role-playing game", series="Mass Effect", director="Casey Hudson", composer="Jack Wall")
game("Civilization", "MicroProse", "1991", genre="turn-based strategy", series="Civilization")
game("The Sims", "Maxis", "2000", publisher="Electronic Arts", genre="life simulation game", series="The Sims")
game("SimCity", "Maxis", "1989", genre="city-building game", series="SimCity")
game("Myst", "Cyan", "1993", publisher="Brøderbund", genre="graphic adventure game", series="Myst")
game("Tomb Raider", "Core Design", "1996", publisher="Eidos Interactive", genre="action-adventure game", series="Tomb Raider")
game("The Last of Us", "Naughty Dog", "2013", publisher="Sony Computer Entertainment", genre="action-adventure game", director="Bruce Straley|Neil Druckmann", composer="Gustavo Santaolalla")
game("Uncharted: Drake's Fortune", "Naughty Dog", "2007", publisher="Sony Computer Entertainment", genre="action-adventure game", series="Uncharted", director="Amy Hennig")
game("God of War", "Santa Monica Studio", "2018", publisher="Sony Interactive Entertainment", genre="action-adventure game", series="God of War", director="Cory Barlog", composer="Bear McCreary")
game("Mortal Kombat", "Midway", "1992", genre="fighting game", series="Mortal Kombat")
game("Silent Hill", "Konami", "1999", genre="survival horror", series="Silent Hill", composer="Akira Yamaoka")
game("Deus Ex", "Ion Storm", "2000", publisher="Eidos Interactive", genre="action role-playing game", series="Deus Ex")
game("Baldur's Gate", "BioWare", "1998", publisher="Interplay Entertainment", genre="role-playing video game", series="Baldur's Gate")
game("Age of Empires", "Ensemble Studios", "1997", publisher="Microsoft", genre="real-time strategy", series="Age of Empires")
game("Stardew Valley", "ConcernedApe", "2016", publisher="Chucklefish", genre="farm life simulation game")
game("Hollow Knight", "Team Cherry", "2017", genre="Metroidvania", composer="Christopher Larkin")

# ---- albums --------------------------------------------------------------------------------
album("Abbey Road", "1969", "George Martin", "rock")
album("Sgt. Pepper's Lonely Hearts Club Band", "1967", "George Martin", "psychedelic rock")
album("Revolver", "1966", "George Martin", "rock")
album("Rubber Soul", "1965", "George Martin", "folk rock")
album("Thriller", "1982", "Quincy Jones", "pop")
album("Off the Wall", "1979", "Quincy Jones", "disco")
album("Bad", "1987", "Quincy Jones", "pop")
album("Nevermind", "1991", "Butch Vig", "grunge")
album("Back in Black", "1980", "Robert John \"Mutt\" Lange", "hard rock")
album("OK Computer", "1997", "Nigel Godrich", "alternative rock")
album("Kid A", "2000", "Nigel Godrich", "experimental rock")
album("The Joshua Tree", "1987", "Brian Eno|Daniel Lanois", "rock")
album("Achtung Baby", "1991", "Daniel Lanois|Brian Eno", "alternative rock")
album("Hotel California", "1976", "Bill Szymczyk", "rock")
album("Pet Sounds", "1966", "Brian Wilson", "baroque pop")
album("Like a Virgin", "1984", "Nile Rodgers", "pop")
album("Let's Dance", "1983", "Nile Rodgers|David Bowie", "dance-rock")
album("Blood Sugar Sex Magik", "1991", "Rick Rubin", "funk rock")
album("Licensed to Ill", "1986", "Rick Rubin", "hip hop")
album("Metallica (album)", "1991", "Bob Rock", "heavy metal")
album("Master of Puppets", "1986", "Flemming Rasmussen", "thrash metal")
album("Dookie", "1994", "Rob Cavallo", "punk rock")
album("Appetite for Destruction", "1987", "Mike Clink", "hard rock")
album("The Rise and Fall of Ziggy Stardust and the Spiders from Mars", "1972", "Ken Scott|David Bowie", "glam rock")
album("The Wall", "1979", "Bob Ezrin|David Gilmour|Roger Waters", "progressive rock")
album("Rumours", "1977", "Ken Caillat|Richard Dashut", "soft rock")
album("Blue", "1971", "Joni Mitchell", "folk")

# ---- paintings -----------------------------------------------------------------------------
painting("Mona Lisa", depicts="Lisa Gherardini", collection="Louvre", movement="High Renaissance", genre="portrait")
painting("The Starry Night", depicts="cypress|night sky", collection="Museum of Modern Art", movement="Post-Impressionism", genre="landscape painting")
painting("The Night Watch", depicts="Frans Banninck Cocq", collection="Rijksmuseum", movement="Dutch Golden Age painting", genre="group portrait")
painting("Girl with a Pearl Earring", depicts="girl", collection="Mauritshuis", movement="Dutch Golden Age painting", genre="tronie")
painting("The Birth of Venus", depicts="Venus", collection="Uffizi", movement="Early Renaissance", genre="mythological painting")
painting("Primavera", depicts="Venus|Flora", collection="Uffizi", movement="Early Renaissance", genre="mythological painting")
painting("Guernica", depicts="bombing of Guernica", collection="Museo Reina Sofía", movement="Cubism", genre="history painting")
painting("Impression, Sunrise", depicts="Le Havre", collection="Musée Marmottan Monet", movement="Impressionism", genre="marine painting")
painting("American Gothic", depicts="Nan Wood Graham|Byron McKeeby", collection="Art Institute of Chicago", movement="Regionalism", genre="portrait")
painting("Las Meninas", depicts="Infanta Margaret Theresa of Spain", collection="Museo del Prado", movement="Baroque", genre="group portrait")
painting("The Garden of Earthly Delights", depicts="Garden of Eden", collection="Museo del Prado", movement="Early Netherlandish painting", genre="religious art")
painting("A Sunday Afternoon on the Island of La Grande Jatte", depicts="Île de la Grande Jatte", collection="Art Institute of Chicago", movement="Pointillism", genre="genre painting")
painting("Liberty Leading the People", depicts="July Revolution|Marianne", collection="Louvre", movement="Romanticism", genre="history painting")
painting("The Raft of the Medusa", depicts="wreck of the Medusa", collection="Louvre", movement="Romanticism", genre="history painting")
painting("Wanderer above the Sea of Fog", depicts="sea of fog", collection="Hamburger Kunsthalle", movement="Romanticism", genre="landscape painting")
painting("Nighthawks", depicts="diner", collection="Art Institute of Chicago", movement="American realism", genre="genre painting")
painting("Arnolfini Portrait", depicts="Giovanni di Nicolao Arnolfini", collection="National Gallery", movement="Early Netherlandish painting", genre="portrait")
painting("The School of Athens", depicts="Plato|Aristotle", collection="Vatican Museums", movement="High Renaissance", commissioner="Pope Julius II")
painting("The Creation of Adam", depicts="Adam|God", movement="High Renaissance", genre="religious art", commissioner="Pope Julius II")
painting("Sistine Madonna", depicts="Madonna", collection="Gemäldegalerie Alte Meister", movement="High Renaissance", genre="religious art", commissioner="Pope Julius II")
painting("Olympia", depicts="Victorine Meurent", collection="Musée d'Orsay", movement="Realism", genre="nude")
painting("Luncheon of the Boating Party", depicts="Aline Charigot", collection="Phillips Collection", movement="Impressionism", genre="genre painting")
painting("Bal du moulin de la Galette", depicts="Moulin de la Galette", collection="Musée d'Orsay", movement="Impressionism", genre="genre painting")
painting("The Hay Wain", depicts="River Stour", collection="National Gallery", movement="Romanticism", genre="landscape painting")
painting("The Fighting Temeraire", depicts="HMS Temeraire", collection="National Gallery", movement="Romanticism", genre="marine painting")
painting("The Third of May 1808", depicts="Peninsular War", collection="Museo del Prado", movement="Romanticism", genre="history painting")
painting("Saturn Devouring His Son", depicts="Saturn", collection="Museo del Prado", movement="Romanticism", genre="mythological painting", series="Black Paintings")
painting("Venus of Urbino", depicts="Venus", collection="Uffizi", movement="High Renaissance", genre="nude")
painting("Café Terrace at Night", depicts="Arles", collection="Kröller-Müller Museum", movement="Post-Impressionism", genre="cityscape")
painting("Les Demoiselles d'Avignon", depicts="nude women", collection="Museum of Modern Art", movement="Cubism", genre="nude")
painting("The Gleaners", depicts="gleaning", collection="Musée d'Orsay", movement="Realism", genre="genre painting")
painting("The Milkmaid", depicts="milkmaid", collection="Rijksmuseum", movement="Dutch Golden Age painting", genre="genre painting")
painting("View of Delft", depicts="Delft", collection="Mauritshuis", movement="Dutch Golden Age painting", genre="cityscape")
painting("The Anatomy Lesson of Dr. Nicolaes Tulp", depicts="Nicolaes Tulp", collection="Mauritshuis", movement="Dutch Golden Age painting", genre="group portrait")
painting("The Swing", depicts="swing", collection="Wallace Collection", movement="Rococo", genre="genre painting")
painting("The Ambassadors", depicts="Jean de Dinteville|Georges de Selve", collection="National Gallery", movement="Northern Renaissance", genre="double portrait")

# ---- records the processing must drop (they show up in info["trex"]) --------------
# Works titled like a pronoun: once "(novel)" / "(film)" is stripped, "It" and "Her" cannot be
# told from the coreference aligner's pronouns, so the pronoun rule drops all their triples.
novel("It (novel)", "Stephen King", "1986", "Viking Press", genre="horror", setting="Derry")
film("Her (film)", "Spike Jonze", "2013", cast="Joaquin Phoenix|Scarlett Johansson", distributor="Warner Bros.", genre="romance film", setting="Los Angeles")
# A publication date without a four-digit year (P577 dropped and counted); with the date gone
# Beowulf has 3 questions, so the work is dropped as well (too_few_questions).
novel("Beowulf", "", "between the 8th and the 11th century", lang="Old English", kind="epic poem", genre="epic poetry", setting="Scandinavia")
# A mononym author (Voltaire) has no first name: P50 is dropped and counted (no_first_name);
# Candide keeps 4 questions.
novel("Candide", "Voltaire", "1759", "Cramer", lang="French", genre="satire")
# Two different films with the same title "Crash": named alike even with "(...)" kept, they
# cannot be told apart by a reader and are dropped (ambiguous_name).
film("Crash", "David Cronenberg", "1996", cast="James Spader|Holly Hunter", composer="Howard Shore", genre="drama film")
film("Crash", "Paul Haggis", "2004", cast="Sandra Bullock|Don Cheadle", composer="Mark Isham", distributor="Lionsgate", genre="drama film", setting="Los Angeles")


def slug(text):
    s = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "_", s).strip("_")


def part(surface, uri):
    return {"surfaceform": surface, "uri": uri}


def documents():
    docs, uris = [], {}
    for n, (title, props) in enumerate(WORKS, start=1):
        # Works sharing a title ("Crash") get distinct URIs: the n-th work with a slug gets #n.
        base = ENTITY + "w/" + slug(title)
        uri = base if base not in uris else f"{base}_{n}"
        uris[uri] = True
        triples = []
        for prop, values in props.items():
            for value in values:
                if not value:
                    continue
                object_uri = (ENTITY + "d/" + slug(value)) if prop == "P577" else (ENTITY + slug(value))
                triples.append({"subject": part(title, uri),
                                "predicate": part(None, PROP + prop),
                                "object": part(value, object_uri)})
        docs.append({"docid": f"imlhost-sample-{n:04d}", "title": title, "uri": uri, "text": "",
                     "entities": [], "words_boundaries": [], "sentences_boundaries": [],
                     "triples": triples})
    # T-REx repeats a triple once per sentence that states it: The Hobbit's author twice.
    hobbit = next(d for d in docs if d["title"] == "The Hobbit")
    hobbit["triples"].append(dict(hobbit["triples"][1]))
    # Documents also hold triples about other subjects, most of them seen once.
    ulysses = next(d for d in docs if d["title"] == "Ulysses")
    ulysses["triples"].append({"subject": part("Dublin", ENTITY + "dublin"),
                               "predicate": part(None, PROP + "P17"),
                               "object": part("Ireland", ENTITY + "ireland")})
    return docs


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "trex_sample.json")
    with open(out, "w", encoding="utf-8") as f:
        f.write("[\n")
        docs = documents()
        for i, doc in enumerate(docs):
            f.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
            f.write(",\n" if i + 1 < len(docs) else "\n")
        f.write("]\n")
    print(f"{out}: {len(docs)} documents, {os.path.getsize(out)} bytes")


if __name__ == "__main__":
    main()
