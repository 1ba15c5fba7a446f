#!/usr/bin/python3
"""licenses_bow.py: makes data/licenses_bow.csv and data/licenses_labels.csv, a small
bag-of-words count matrix for the multinomial family (tests/lua/test_multinomial.lua,
scripts/multinomial_licenses.lua), from the licence texts that Debian ships in
/usr/share/common-licenses (package base-files; each text is under its own terms, which allow
verbatim copying).  Run with Debian's python3 (standard library only):
    /usr/bin/python3 tests/reference/licenses_bow.py

How: four licences with little shared wording (Apache-2.0, GPL-3, MPL-2.0, GFDL-1.3) are split
into paragraphs at blank lines; a paragraph is a document when it has at least 20 words.  Words
are runs of the letters a-z after lower-casing; words of fewer than 3 letters and the STOP list
below are dropped.  The vocabulary is the 100 words found in the most documents (ties broken
alphabetically); each document is a row of its counts of those words.  Documents left with no
count are dropped.  The labels file holds the licence of each row, 1..4 in the order above.
"""
import os
import re
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
SRC = "/usr/share/common-licenses"
LICENCES = ["Apache-2.0", "GPL-3", "MPL-2.0", "GFDL-1.3"]
V = 100
STOP = set("""the and for that any you are this not with such from but its all may which
other has have been was were will shall can your their them they than then when where what who
whom how also into onto upon out off under over per via yet nor etc each both either neither
these those there here herein hereof thereof whether within without""".split())


def words(text):
    return [w for w in re.findall(r"[a-z]+", text.lower()) if len(w) >= 3 and w not in STOP]


def main():
    docs, labels = [], []
    for lab, name in enumerate(LICENCES, start=1):
        with open(os.path.join(SRC, name), encoding="utf-8") as f:
            text = f.read()
        for para in re.split(r"\n\s*\n", text):
            if len(re.findall(r"[a-z]+", para.lower())) >= 20:
                docs.append(Counter(words(para)))
                labels.append(lab)
    df = Counter()
    for d in docs:
        df.update(d.keys())
    vocab = sorted(df, key=lambda w: (-df[w], w))[:V]
    rows = [[d[w] for w in vocab] for d in docs]
    keep = [i for i, r in enumerate(rows) if sum(r) > 0]
    with open(os.path.join(TOP, "data", "licenses_bow.csv"), "w") as f:
        f.write(",".join(vocab) + "\n")
        for i in keep:
            f.write(",".join(str(c) for c in rows[i]) + "\n")
    with open(os.path.join(TOP, "data", "licenses_labels.csv"), "w") as f:
        f.write("licence\n")
        for i in keep:
            f.write("%d\n" % labels[i])
    print("%d documents (%d dropped), %d words" % (len(keep), len(rows) - len(keep), len(vocab)))


main()
