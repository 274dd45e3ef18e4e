#!/usr/bin/env python3
"""A "many distinct words" corpus shaped like 20 Newsgroups, made from BBC News (stdlib only).

    python3 scripts/bench_corpus.py OUT_DIR [--seed 0] [--posts 18846]

Writes OUT_DIR/GROUP/NNNNN.txt (20 groups named after the newsgroups, 18,846 posts in the
20 Newsgroups' group sizes, about 30 MB) and OUT_DIR/labels.csv (path,label, as BBC's).
The same seed gives the same bytes.

Each group takes its text from one BBC section (four groups a section): sentences of that
section, most of them from the group's own quarter of the section's articles, a few from
anywhere, with words of a sub-vocabulary of its own (section-specific words dealt out to the
four groups) put in at random places, so that the 20 groups are separable but not trivially.
Around that, newsgroup furniture: From/Subject/Organization/Lines headers (authors, hosts and
organisations made of generated syllables), quoted replies ("In article <message-id>, ...
writes:" and "> " lines from an earlier post of the group), signatures with URLs, phone
numbers and key ids, and junk that makes many distinct terms, most of them rare: base64 and
uuencoded attachments (long random tokens), URLs, hex ids, C code with generated
identifiers, and misspelt words. That gives about 145,000 distinct terms after
themata's analysis (BBC × 8 has 20,000), most of them seen once: the analyzer's memo misses
far more often and its tokens are longer than on news text.
"""
import argparse
import base64
import binascii
import csv
import itertools
import os
import random
import re
import sys

# (name, BBC section, posts): the 20 Newsgroups' groups and their sizes in the full set.
GROUPS = [
    ("alt.atheism", "entertainment", 799),
    ("comp.graphics", "tech", 973),
    ("comp.os.ms-windows.misc", "tech", 985),
    ("comp.sys.ibm.pc.hardware", "tech", 982),
    ("comp.sys.mac.hardware", "business", 963),
    ("comp.windows.x", "tech", 988),
    ("misc.forsale", "business", 975),
    ("rec.autos", "sport", 990),
    ("rec.motorcycles", "sport", 996),
    ("rec.sport.baseball", "sport", 994),
    ("rec.sport.hockey", "sport", 999),
    ("sci.crypt", "business", 991),
    ("sci.electronics", "business", 984),
    ("sci.med", "entertainment", 990),
    ("sci.space", "politics", 987),
    ("soc.religion.christian", "entertainment", 997),
    ("talk.politics.guns", "politics", 910),
    ("talk.politics.mideast", "politics", 940),
    ("talk.politics.misc", "politics", 775),
    ("talk.religion.misc", "entertainment", 628),
]
CODE_GROUPS = {"comp.graphics", "comp.os.ms-windows.misc", "comp.sys.ibm.pc.hardware",
               "comp.sys.mac.hardware", "comp.windows.x", "sci.crypt", "sci.electronics"}

SYLLABLES = ("ba be bi bo bu ca ce ci co cu da de di do du fa fe fi fo ga ge go gu ha he hi ho "
             "ja jo ka ke ki ko la le li lo lu ma me mi mo mu na ne ni no nu pa pe pi po ra re "
             "ri ro ru sa se si so su ta te ti to tu va ve vi vo wa we wi ya yo za ze zi zo "
             "bar ber dan del fen gar har ken lin mar mor nel ran ril sen son ster tan ton ver "
             "wick win ley ford berg man stein ski sen").split()
TLDS = ["edu", "edu", "edu", "com", "com", "gov", "org", "uk", "de", "ca", "au", "nl", "se"]
DEPTS = ["cs", "ee", "math", "phys", "cc", "ai", "ecn", "eng", "mit", "lab", "cis", "stat",
         "chem", "bio", "med", "law", "uxa", "vax", "sun", "mips"]
C_TYPES = ["int", "char", "long", "unsigned", "void", "float", "double", "Widget", "Display",
           "Window", "XEvent", "Boolean", "size_t", "FILE"]
ORG_KINDS = ["University", "Inc.", "Corporation", "Laboratories", "College", "Institute of Technology",
             "Research Center", "Computing Services", "Ltd.", "GmbH", "Polytechnic", "Systems",
             "Networks", "Software", "Associates", "Hospital", "Group", "Foundation", "Council",
             "Press", "Academy", "Observatory", "Consulting", "Labs", "Electronics"]
KEYWORDS = ["if", "while", "for", "return", "switch", "case", "break", "else"]
WORD_RE = re.compile(r"[A-Za-z]{4,}")
SENT_RE = re.compile(r'(?<=[.!?"])\s+(?=[A-Z"])')


def load_bbc(bbc):
    """{section: [(headline, [sentences])]} in sorted file order."""
    with open(os.path.join(bbc, "labels.csv"), encoding="utf-8", newline="") as f:
        rows = sorted((r["label"], r["path"]) for r in csv.DictReader(f))
    sections = {}
    for label, path in rows:
        with open(os.path.join(bbc, path), encoding="utf-8") as f:
            lines = [line.strip() for line in f.read().split("\n") if line.strip()]
        sents = [s for para in lines[1:] for s in SENT_RE.split(para) if s]
        sections.setdefault(label, []).append((lines[0], sents))
    return sections


def sub_vocabularies(sections, rng, per_section=4):
    """Words much more frequent in one section than elsewhere, dealt out to its groups."""
    df = {}
    for label, arts in sections.items():
        for _, sents in arts:
            for w in set(WORD_RE.findall(" ".join(sents).lower())):
                df.setdefault(w, {}).setdefault(label, 0)
                df[w][label] += 1
    out = {}
    for label in sorted(sections):
        words = sorted(w for w, d in df.items()
                       if d.get(label, 0) >= 3 and d[label] >= 0.8 * sum(d.values()))
        rng.shuffle(words)
        out[label] = [words[j::per_section] for j in range(per_section)]
    return out


def name_word(rng, lo=2, hi=3):
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(lo, hi)))


def make_host(rng):
    parts = [name_word(rng, 1, 3)]
    if rng.random() < 0.6:
        parts.insert(0, rng.choice(DEPTS))
    if rng.random() < 0.3:
        parts.insert(0, name_word(rng, 1, 2))
    return ".".join(parts + [rng.choice(TLDS)])


def make_author(rng, hosts, orgs):
    first, last = name_word(rng, 1, 2).capitalize(), name_word(rng, 2, 3).capitalize()
    user = rng.choice([first[0] + last, first + "." + last, last + str(rng.randint(1, 99)),
                       first[:3] + last[:4], first]).lower()
    host = rng.choice(hosts)
    return {"name": f"{first} {last}", "email": f"{user}@{host}", "org": rng.choice(orgs),
            "sig": rng.random() < 0.7}


def misspell(w, rng):
    if len(w) < 4:
        return w
    i = rng.randrange(1, len(w) - 1)
    op = rng.randrange(4)
    if op == 0:
        return w[:i] + w[i + 1] + w[i] + w[i + 2:]
    if op == 1:
        return w[:i] + w[i + 1:]
    if op == 2:
        return w[:i] + w[i] + w[i:]
    return w[:i] + rng.choice("aeiourstnl") + w[i + 1:]


def identifier(rng, words):
    a, b = rng.choice(words), rng.choice(words)
    style = rng.randrange(4)
    if style == 0:
        return rng.choice(["Xt", "Xm", "gl", "Get", "Set", ""]) + a.capitalize() + b.capitalize()
    if style == 1:
        return f"{a}_{b}"
    if style == 2:
        return f"{a[:5]}{rng.randint(0, 99)}"
    return f"{rng.choice(['p', 'n', 'sz', 'lp', 'h'])}{a.capitalize()}"


def code_snippet(rng, words):
    names = [identifier(rng, words) for _ in range(rng.randint(3, 8))]
    lines = [f"#include <{rng.choice(words)}.h>", ""]
    lines.append(f"{rng.choice(C_TYPES)} {names[0]}({rng.choice(C_TYPES)} *{names[1]}, int {names[2]})")
    lines.append("{")
    for _ in range(rng.randint(3, 18)):
        kind = rng.randrange(4)
        a, b = rng.choice(names), rng.choice(names)
        if kind == 0:
            lines.append(f"    {a} = {b}->{rng.choice(names)} & 0x{rng.getrandbits(32):08x};")
        elif kind == 1:
            lines.append(f"    {rng.choice(KEYWORDS)} ({a} != {b}) {names[0]}({a}, {rng.randint(0, 4096)});")
        elif kind == 2:
            lines.append(f"    /* {' '.join(rng.choice(words) for _ in range(rng.randint(2, 7)))} */")
        else:
            lines.append(f"    {rng.choice(C_TYPES)} {a}[{rng.randint(2, 512)}];")
    lines.append(f"    return {rng.choice(names)};")
    lines.append("}")
    return "\n".join(lines)


def attachment(rng, words):
    """A base64 (MIME) or uuencoded binary: long random tokens."""
    n = int(min(60000, rng.lognormvariate(8.3, 0.6)))
    data = rng.randbytes(n)
    fname = f"{rng.choice(words)}{rng.randint(1, 99)}.{rng.choice(['gif', 'jpg', 'zip', 'exe', 'tar'])}"
    if rng.random() < 0.5:
        b = base64.b64encode(data).decode("ascii")
        body = "\n".join(b[i:i + 76] for i in range(0, len(b), 76))
        return (f"Content-Type: application/octet-stream; name=\"{fname}\"\n"
                f"Content-Transfer-Encoding: base64\n\n{body}\n")
    uu = "".join(binascii.b2a_uu(data[i:i + 45]).decode("ascii") for i in range(0, n, 45))
    return f"begin 644 {fname}\n{uu}`\nend\n"


def url(rng, hosts, words):
    scheme = rng.choice(["http://www.", "ftp://ftp.", "http://", "gopher://"])
    path = "/".join(rng.choice(words) for _ in range(rng.randint(1, 3)))
    ext = rng.choice([".html", ".txt", "-1.2.tar.Z", ".zip", "/", f"{rng.randint(1, 999)}.gif"])
    return f"{scheme}{rng.choice(hosts)}/{path}{ext}"


def message_id(rng, host):
    return (f"<1993{rng.choice(['Mar', 'Apr', 'May'])}{rng.randint(1, 30)}."
            f"{rng.randint(0, 235959):06d}.{rng.randint(1, 99999)}@{host}>")


def generate(bbc, dst, seed=0, posts=None):
    """Write the corpus into dst; returns (files, bytes). posts: total (scales the groups)."""
    rng = random.Random(seed)
    sections = load_bbc(bbc)
    subvocab = sub_vocabularies(sections, rng)
    all_sents = [s for label in sorted(sections) for _, ss in sections[label] for s in ss]
    words = sorted({w.lower() for s in all_sents[::7] for w in WORD_RE.findall(s)})
    hosts = [make_host(rng) for _ in range(1500)]
    orgs = [" ".join(name_word(rng).capitalize() for _ in range(rng.randint(1, 2))) + " "
            + rng.choice(ORG_KINDS)
            for _ in range(900)]
    scale = 1.0 if posts is None else posts / sum(n for *_, n in GROUPS)
    rows = []
    nbytes = 0
    section_groups = {}
    for gname, section, _ in GROUPS:
        section_groups.setdefault(section, []).append(gname)
    for gi, (gname, section, count) in enumerate(GROUPS):
        count = max(1, round(count * scale))
        j = section_groups[section].index(gname)
        arts = sections[section]
        own = [a for i, a in enumerate(arts) if i % 4 == j]
        sub = subvocab[section][j]
        sub_cum = list(itertools.accumulate(1.0 / (r + 1) ** 0.8 for r in range(len(sub))))
        authors = [make_author(rng, hosts, orgs) for _ in range(max(20, count // 2))]
        author_cum = list(itertools.accumulate(1.0 / (r + 1) ** 0.8 for r in range(len(authors))))
        code = gname in CODE_GROUPS
        earlier = []  # (subject, author, body sentences) of this group's posts
        os.makedirs(os.path.join(dst, gname), exist_ok=True)
        for n in range(count):
            author = rng.choices(authors, cum_weights=author_cum)[0]
            # body: sentences of the group's articles, of its section and of anything
            nsent = max(1, min(80, int(rng.lognormvariate(1.82, 0.75))))
            art = rng.choice(own)
            body = []
            for _ in range(nsent):
                r = rng.random()
                if r < 0.55:
                    body.append(rng.choice(art[1]))
                elif r < 0.8:
                    body.append(rng.choice(rng.choice(own)[1]))
                elif r < 0.94:
                    body.append(rng.choice(rng.choice(arts)[1]))
                else:
                    body.append(rng.choice(all_sents))
            # the group's own words, at random places; misspellings
            toks = " ".join(body).split(" ")
            ninj = max(1, len(toks) // 20)
            for w in rng.choices(sub, cum_weights=sub_cum, k=ninj):
                toks.insert(rng.randrange(len(toks) + 1), w)
            for _ in range(max(0, int(rng.gauss(len(toks) / 250, 1.0)))):
                i = rng.randrange(len(toks))
                toks[i] = misspell(toks[i], rng)
            # paragraphs of a few sentences' length each
            paras, i = [], 0
            while i < len(toks):
                step = rng.randint(25, 90)
                while i + step < len(toks) and not toks[i + step - 1].endswith((".", "?", "!", '"')):
                    step += 1
                paras.append(" ".join(toks[i:i + step]))
                i += step
            parts = []
            reply = earlier and rng.random() < 0.55
            if reply:
                subj, other, prev = rng.choice(earlier[-40:])
                subject = "Re: " + subj
                quoted = prev[:rng.randint(1, 6)]
                parts.append(f"In article {message_id(rng, other['email'].split('@')[1])}, "
                             f"{other['email']} ({other['name']}) writes:")
                parts.append("\n".join("> " + q for q in quoted))
                if rng.random() < 0.25:
                    parts.append("\n".join(">> " + q for q in prev[-2:]))
            else:
                head = rng.choice(own)[0] if rng.random() < 0.7 else art[0]
                subject = head
                if rng.random() < 0.2:
                    subject += " " + rng.choice(sub)
            parts.append("\n\n".join(paras))
            if rng.random() < (0.18 if code else 0.04):
                parts.append(code_snippet(rng, words))
            if rng.random() < (0.019 if code else 0.003):
                parts.append(attachment(rng, words))
            if rng.random() < 0.06:
                parts.append("See " + url(rng, hosts, words) + " and " + url(rng, hosts, words))
            if rng.random() < 0.02:
                parts.append("\n".join(f"{rng.choice(words)}-{rng.getrandbits(24):06x}"
                                       f"  0x{rng.getrandbits(48):012X}  {rng.randint(1, 9999)}"
                                       for _ in range(rng.randint(2, 12))))
            if author["sig"]:
                sig = ["-- ", f"{author['name']}   {author['email']}", author["org"]]
                if rng.random() < 0.4:
                    sig.append(url(rng, hosts, words))
                if rng.random() < 0.3:
                    sig.append(f"PGP key ID 0x{rng.getrandbits(32):08X}  "
                               f"+1 {rng.randint(200, 999)} {rng.randint(200, 999)}-{rng.randint(0, 9999):04d}")
                parts.append("\n".join(sig))
            text = "\n\n".join(parts) + "\n"
            header = (f"From: {author['email']} ({author['name']})\nSubject: {subject}\n"
                      f"Organization: {author['org']}\nLines: {text.count(chr(10))}\n\n")
            data = (header + text).encode("utf-8")
            rel = f"{gname}/{n:05d}.txt"
            with open(os.path.join(dst, rel), "wb") as f:
                f.write(data)
            nbytes += len(data)
            rows.append((rel, gname))
            earlier.append((subject[4:] if subject.startswith("Re: ") else subject, author, body))
    with open(os.path.join(dst, "labels.csv"), "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "label"])
        w.writerows(rows)
    return len(rows), nbytes


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", help="directory to write (created)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--posts", type=int, help="number of posts (default 18,846)")
    ap.add_argument("--bbc", default=os.path.normpath(os.path.join(here, "..", "..", "shared", "corpora", "bbc")),
                    help="BBC News corpus (default ../shared/corpora/bbc of the repository)")
    a = ap.parse_args()
    files, nbytes = generate(a.bbc, a.out, a.seed, a.posts)
    print(f"{files} files, {nbytes / 1e6:.1f} MB in {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
