//! A small, fast XML writer for generated CDA: escapes everything it is given, indents for
//! readability, and never emits characters XML 1.0 forbids.

pub(crate) struct Xml {
    buf: String,
    depth: usize,
    /// True right after an opening tag: the next close can stay on the same line.
    just_opened: bool,
}

pub(crate) fn escape_into(out: &mut String, s: &str, attr: bool) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\n' | '\r' | '\t' if attr => out.push(' '),
            '\t' | '\n' | '\r' => out.push(c),
            // XML 1.0 Char excludes other C0 controls and the non-characters U+FFFE/U+FFFF.
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
}

impl Xml {
    pub(crate) fn with_capacity(n: usize) -> Self {
        let mut buf = String::with_capacity(n);
        buf.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        Self {
            buf,
            depth: 0,
            just_opened: false,
        }
    }

    fn indent(&mut self) {
        self.buf.push('\n');
        for _ in 0..self.depth {
            self.buf.push_str("  ");
        }
    }

    fn tag(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.indent();
        self.buf.push('<');
        self.buf.push_str(name);
        for (k, v) in attrs {
            self.buf.push(' ');
            self.buf.push_str(k);
            self.buf.push_str("=\"");
            escape_into(&mut self.buf, v, true);
            self.buf.push('"');
        }
    }

    pub(crate) fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.tag(name, attrs);
        self.buf.push('>');
        self.depth += 1;
        self.just_opened = true;
    }

    pub(crate) fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        if !self.just_opened {
            self.indent();
        }
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push('>');
        self.just_opened = false;
    }

    pub(crate) fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.tag(name, attrs);
        self.buf.push_str("/>");
        self.just_opened = false;
    }

    /// `<name attrs>text</name>` on one line.
    pub(crate) fn leaf(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.tag(name, attrs);
        self.buf.push('>');
        escape_into(&mut self.buf, text, false);
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push('>');
        self.just_opened = false;
    }

    pub(crate) fn finish(mut self) -> String {
        self.buf.push('\n');
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_drops_forbidden_characters() {
        let mut x = Xml::with_capacity(64);
        x.open("a", &[("v", "1 \"<&>\"\n2")]);
        x.leaf("b", &[], "x < y & z\u{1}\u{FFFE}");
        x.close("a");
        let s = x.finish();
        assert!(
            s.contains(r#"<a v="1 &quot;&lt;&amp;&gt;&quot; 2">"#),
            "{s}"
        );
        assert!(s.contains("<b>x &lt; y &amp; z</b>"), "{s}");
    }
}
