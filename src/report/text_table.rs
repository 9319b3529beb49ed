//! A plain-text table with columns sized to their contents: the first column left-aligned,
//! the others right-aligned (they hold numbers) unless marked as text.

/// Rows of cells under a header.
pub struct TextTable {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    /// Columns after the first that hold text (left-aligned).
    text: Vec<usize>,
}

impl TextTable {
    /// A table with these column titles.
    pub fn new(header: &[&str]) -> TextTable {
        TextTable {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            text: Vec::new(),
        }
    }

    /// Left-align these columns too: they hold words, not numbers.
    pub fn text_columns(mut self, columns: &[usize]) -> TextTable {
        self.text = columns.to_vec();
        self
    }

    /// Add a row (missing cells are blank).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as lines indented by two spaces.
    pub fn render(&self) -> String {
        let columns = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut text = String::from(" ");
            for (i, width) in widths.iter().enumerate() {
                let cell = cells.get(i).map_or("", String::as_str);
                let pad = width - cell.chars().count();
                text.push(' ');
                if i == 0 || self.text.contains(&i) {
                    if i > 0 {
                        text.push(' ');
                    }
                    text.push_str(cell);
                    text.push_str(&" ".repeat(pad));
                } else {
                    text.push_str(&" ".repeat(pad + 1));
                    text.push_str(cell);
                }
            }
            text.trim_end().to_string() + "\n"
        };
        let mut out = line(&self.header);
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_as_wide_as_their_widest_cell() {
        let mut t = TextTable::new(&["name", "n"]);
        t.row(vec!["a".into(), "1000".into()]);
        assert_eq!(t.render(), "  name     n\n  a     1000\n");
    }

    #[test]
    fn text_columns_are_left_aligned() {
        let mut t = TextTable::new(&["name", "note", "n"]).text_columns(&[1]);
        t.row(vec!["a".into(), "long note".into(), "1".into()]);
        t.row(vec!["b".into(), "x".into(), "10".into()]);
        assert_eq!(
            t.render(),
            "  name  note        n\n  a     long note   1\n  b     x          10\n"
        );
    }
}
