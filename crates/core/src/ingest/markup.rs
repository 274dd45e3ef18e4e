//! Markdown and HTML inputs → plain text and metadata (pure functions over strings).
//!
//! Both give text in which every block (paragraph, heading, list item, quotation, code
//! block, table cell) is its own paragraph, separated from the next by a blank line, so that
//! the `paragraph` split cuts along the document's own blocks. Passage offsets index into
//! this text, not into the markup.

use super::meta::{clean, parse_date};
use crate::model::DocumentMeta;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// Collects blocks of text, one paragraph each.
#[derive(Default)]
struct Blocks {
    out: String,
    cur: String,
}

impl Blocks {
    /// End the current block: its lines trimmed at the end, blank lines dropped.
    fn flush(&mut self) {
        let mut block = String::new();
        for line in self.cur.lines() {
            let line = line.trim_end();
            if line.trim().is_empty() {
                continue;
            }
            if !block.is_empty() {
                block.push('\n');
            }
            block.push_str(line.trim_start());
        }
        self.cur.clear();
        if block.is_empty() {
            return;
        }
        if !self.out.is_empty() {
            self.out.push_str("\n\n");
        }
        self.out.push_str(&block);
    }

    fn push(&mut self, s: &str) {
        self.cur.push_str(s);
    }

    fn finish(mut self) -> String {
        self.flush();
        self.out
    }
}

/// YAML-style front matter at the very top of a Markdown file: a `---` line, `key: value`
/// lines, and a closing `---` (or `...`) line. Only simple one-line `key: value` pairs are
/// read — no nesting, lists or multi-line values — and of them only `title`, `date`,
/// `author` and `source` (case-insensitive; quotes around a value are removed; a date that
/// [`parse_date`] cannot read is left empty). Returns the metadata and the text after the
/// front matter; text without front matter is returned whole.
pub fn front_matter(text: &str) -> (DocumentMeta, &str) {
    let mut meta = DocumentMeta::default();
    let Some(first_end) = text.find('\n') else {
        return (meta, text);
    };
    if text[..first_end].trim_end() != "---" {
        return (meta, text);
    }
    let mut pos = first_end + 1;
    let mut fields = Vec::new();
    loop {
        if pos >= text.len() {
            return (DocumentMeta::default(), text); // never closed: not front matter
        }
        let end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
        let line = &text[pos..end];
        pos = (end + 1).min(text.len());
        let t = line.trim_end();
        if t == "---" || t == "..." {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if !k.starts_with([' ', '\t']) {
                fields.push((k.trim().to_lowercase(), unquote(v.trim()).to_string()));
            }
        }
    }
    for (k, v) in fields {
        if v.is_empty() {
            continue;
        }
        match k.as_str() {
            "title" => meta.title = Some(v),
            "date" => meta.date = parse_date(&v),
            "author" => meta.author = Some(v),
            "source" => meta.source = Some(v),
            _ => {}
        }
    }
    (clean(meta), &text[pos..])
}

fn unquote(v: &str) -> &str {
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return &v[1..v.len() - 1];
        }
    }
    v
}

/// Markdown → plain text and the front matter's metadata. Inline markup is flattened:
/// emphasis and links become their text, images their alt text, inline code its text; raw
/// HTML is dropped. Character entities are decoded.
pub fn markdown(text: &str) -> (String, DocumentMeta) {
    let (meta, body) = front_matter(text);
    let opts = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_TASKLISTS;
    let mut b = Blocks::default();
    let mut in_html = false;
    for ev in Parser::new_ext(body, opts) {
        match ev {
            Event::Start(tag) => match tag {
                Tag::Paragraph
                | Tag::Heading { .. }
                | Tag::BlockQuote(_)
                | Tag::CodeBlock(_)
                | Tag::List(_)
                | Tag::Item
                | Tag::FootnoteDefinition(_)
                | Tag::Table(_)
                | Tag::TableHead
                | Tag::TableRow
                | Tag::TableCell
                | Tag::DefinitionList
                | Tag::DefinitionListTitle
                | Tag::DefinitionListDefinition => b.flush(),
                Tag::HtmlBlock => {
                    b.flush();
                    in_html = true;
                }
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::HtmlBlock => in_html = false,
                TagEnd::Emphasis
                | TagEnd::Strong
                | TagEnd::Strikethrough
                | TagEnd::Superscript
                | TagEnd::Subscript
                | TagEnd::Link
                | TagEnd::Image => {}
                _ => b.flush(),
            },
            Event::Text(t) if !in_html => b.push(&t),
            Event::Code(t) | Event::InlineMath(t) | Event::DisplayMath(t) => b.push(&t),
            Event::SoftBreak => b.push(" "),
            Event::HardBreak => b.push("\n"),
            Event::Rule => b.flush(),
            _ => {} // raw HTML, footnote references, task list markers
        }
    }
    (b.finish(), meta)
}

/// Elements whose content is never text of the page.
const DROPPED: &[&str] = &[
    "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form",
    "iframe", "svg", "head", "button", "select", "canvas", "object",
];

/// Elements that begin and end a block of text.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "pre",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "td",
    "th",
    "caption",
    "section",
    "article",
    "main",
    "figure",
    "figcaption",
    "address",
    "details",
    "summary",
    "hr",
    "br",
    "body",
    "center",
    "fieldset",
    "legend",
];

/// HTML → the page's main text and metadata, with a real HTML parser (html5ever through
/// `scraper`). The text comes from the first `<article>`, else `<main>`, else `<body>`;
/// `script`, `style`, `noscript`, `template`, `nav`, `header`, `footer`, `aside`, `form`,
/// `iframe`, `svg` (and buttons, selects, canvases, objects) are dropped; block elements
/// (`p`, `h1`–`h6`, `li`, `blockquote`, `pre`, `div`, `td`, `br`, ...) separate paragraphs;
/// inside `pre` line breaks are kept, elsewhere white space is folded; entities are decoded.
///
/// Metadata: title from `og:title`, else `<title>`; author from `<meta name="author">`;
/// date from `article:published_time`, else the first `<time datetime>`, else
/// `<meta name="date">` (the first that [`parse_date`] reads); source from `og:site_name`.
pub fn html(text: &str) -> (String, DocumentMeta) {
    use scraper::{ElementRef, Html, Node, Selector};
    let doc = Html::parse_document(text);
    let sel = |s: &str| Selector::parse(s).expect("a valid selector");
    let first_attr = |selector: &str, attr: &str| -> Option<String> {
        doc.select(&sel(selector))
            .filter_map(|e| e.value().attr(attr))
            .map(str::trim)
            .find(|v| !v.is_empty())
            .map(str::to_string)
    };
    let title_text = doc
        .select(&sel("title"))
        .next()
        .map(|t| t.text().collect::<String>());
    let date = [
        ("meta[property=\"article:published_time\"]", "content"),
        ("time[datetime]", "datetime"),
        ("meta[name=\"date\"]", "content"),
    ]
    .iter()
    .flat_map(|(s, a)| {
        doc.select(&sel(s))
            .filter_map(|e| e.value().attr(a))
            .collect::<Vec<_>>()
    })
    .find_map(parse_date);
    let meta = clean(DocumentMeta {
        title: first_attr("meta[property=\"og:title\"]", "content").or(title_text),
        date,
        author: first_attr("meta[name=\"author\"]", "content"),
        source: first_attr("meta[property=\"og:site_name\"]", "content"),
    });

    let root: ElementRef = ["article", "main", "body"]
        .iter()
        .find_map(|s| doc.select(&sel(s)).next())
        .unwrap_or_else(|| doc.root_element());
    let mut b = Blocks::default();
    // iterative walk (deeply nested pages must not exhaust the stack): (node, entering)
    let mut stack = vec![(*root, true)];
    let mut pre_depth = 0usize;
    while let Some((node, entering)) = stack.pop() {
        match node.value() {
            Node::Element(e) => {
                let name = e.name();
                if entering {
                    if DROPPED.contains(&name) {
                        continue;
                    }
                    let block = BLOCKS.contains(&name);
                    if block {
                        b.flush();
                    }
                    if name == "pre" {
                        pre_depth += 1;
                    }
                    stack.push((node, false));
                    let children: Vec<_> = node.children().collect();
                    for c in children.into_iter().rev() {
                        stack.push((c, true));
                    }
                } else {
                    if name == "pre" {
                        pre_depth -= 1;
                    }
                    if BLOCKS.contains(&name) {
                        b.flush();
                    }
                }
            }
            Node::Text(t) if entering => {
                if pre_depth > 0 {
                    b.push(t);
                } else {
                    // white space in HTML text is insignificant: one space per run
                    let s: &str = t;
                    let mut folded = String::with_capacity(s.len());
                    let mut space = false;
                    for c in s.chars() {
                        if c.is_whitespace() {
                            space = true;
                        } else {
                            if space {
                                folded.push(' ');
                            }
                            space = false;
                            folded.push(c);
                        }
                    }
                    if space {
                        folded.push(' ');
                    }
                    b.push(&folded);
                }
            }
            _ => {} // comments, doctype, processing instructions
        }
    }
    (b.finish(), meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paras(t: &str) -> Vec<&str> {
        t.split("\n\n").collect()
    }

    #[test]
    fn front_matter_fields() {
        let t = "---\ntitle: \"A Title: with colon\"\ndate: 2025-01-23\nauthor: Jane Doe\nsource: 'The Review'\ntags: [a, b]\nnested:\n  title: no\n---\nBody\n";
        let (m, body) = front_matter(t);
        assert_eq!(m.title.as_deref(), Some("A Title: with colon"));
        assert_eq!(m.date.as_deref(), Some("2025-01-23"));
        assert_eq!(m.author.as_deref(), Some("Jane Doe"));
        assert_eq!(m.source.as_deref(), Some("The Review"));
        assert_eq!(body, "Body\n");
        // an unreadable date stays empty
        let (m, _) = front_matter("---\ndate: sometime soon\n---\nx");
        assert_eq!(m.date, None);
        // not closed, or not at the top: no front matter
        assert_eq!(front_matter("---\ntitle: x\nBody").1, "---\ntitle: x\nBody");
        assert_eq!(
            front_matter("Body\n---\ntitle: x\n---\n").0,
            DocumentMeta::default()
        );
    }

    #[test]
    fn markdown_blocks_become_paragraphs() {
        let t = "---\ntitle: T\n---\n# The *Heading*\n\nA paragraph with **bold**, a [link](http://x.org) and `code`,\nwrapped onto a second line.\n\n- item one\n- item ![alt text](i.png) two\n\n> quoted\n> words\n\n```\nlet x = 1;\n\nlet y = 2;\n```\n\nAT&amp;T &copy; <span>inline html</span>\n\n<div>\nblock html\n</div>\n";
        let (text, meta) = markdown(t);
        assert_eq!(meta.title.as_deref(), Some("T"));
        assert_eq!(
            paras(&text),
            [
                "The Heading",
                "A paragraph with bold, a link and code, wrapped onto a second line.",
                "item one",
                "item alt text two",
                "quoted words",
                "let x = 1;\nlet y = 2;",
                "AT&T © inline html",
            ]
        );
    }

    #[test]
    fn html_main_text_and_meta() {
        let page = r#"<!doctype html><html><head>
<title>Page title | Site</title>
<meta property="og:title" content="The Real Title">
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2025-01-23T08:00:00Z">
<meta property="og:site_name" content="The Review">
<style>p { color: red }</style><script>var x = "script text";</script>
</head><body>
<nav>Home | About</nav><header>Site header</header>
<article><h1>The Real Title</h1>
<p>First   paragraph,
  with AT&amp;T and <em>emphasis</em>.</p>
<div>Second<br>after break</div>
<ul><li>one</li><li>two</li></ul>
<aside>Related stories</aside>
<pre>line 1
line 2</pre>
<table><tr><td>cell a</td><td>cell b</td></tr></table>
<!-- a comment -->
</article>
<footer>© footer</footer></body></html>"#;
        let (text, meta) = html(page);
        assert_eq!(
            paras(&text),
            [
                "The Real Title",
                "First paragraph, with AT&T and emphasis.",
                "Second",
                "after break",
                "one",
                "two",
                "line 1\nline 2",
                "cell a",
                "cell b",
            ]
        );
        assert_eq!(
            meta,
            DocumentMeta {
                title: Some("The Real Title".into()),
                date: Some("2025-01-23".into()),
                author: Some("Jane Doe".into()),
                source: Some("The Review".into()),
            }
        );
    }

    #[test]
    fn html_falls_back_to_main_body_title_and_time() {
        let (text, meta) = html(
            "<html><head><title>Plain</title></head><body><p>outside</p><main><p>inside</p><time datetime=\"2019-06-28\">June</time></main></body></html>",
        );
        assert_eq!(paras(&text), ["inside", "June"]);
        assert_eq!(meta.title.as_deref(), Some("Plain"));
        assert_eq!(meta.date.as_deref(), Some("2019-06-28"));
        let (text, meta) = html("<p>just a fragment &lt;b&gt;</p>");
        assert_eq!(text, "just a fragment <b>");
        assert_eq!(meta, DocumentMeta::default());
    }
}
