//! Compact SVG text. plotters writes a dashed line as one element per dash and every number as
//! it gets it ("16.129032258064516"); here dashed lines become one `polyline` with a
//! `stroke-dasharray`, numbers in tags keep at most two decimals, and the default `opacity="1"`
//! is dropped. Text between tags (labels) is left as it is.

/// The opacity a dashed line is drawn with in SVG so that [`compact`] can find it and dash it:
/// no other element is drawn with it.
pub const DASH_MARK: f64 = 0.9961;

/// The dash pattern of dashed lines, pixels on and off.
const DASH_ARRAY: &str = "6 4";

/// The SVG text made compact (see the module's description).
pub fn compact(svg: &str) -> String {
    let dashed = svg
        .replace(
            &format!(" opacity=\"{DASH_MARK}\""),
            &format!(" stroke-dasharray=\"{DASH_ARRAY}\""),
        )
        .replace(" opacity=\"1\"", "");
    let mut out = String::with_capacity(dashed.len());
    let mut in_tag = false;
    let mut chars = dashed.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ => {}
        }
        if in_tag && c.is_ascii_digit() {
            let mut number = String::from(c);
            while let Some(&d) = chars.peek() {
                if d.is_ascii_digit() || d == '.' {
                    number.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            out.push_str(&two_decimals(&number));
        } else {
            out.push(c);
        }
    }
    out
}

/// A number with at most two decimals, without trailing zeros ("16.13", "0.18", "12").
fn two_decimals(number: &str) -> String {
    match number.split_once('.') {
        Some((_, decimals)) if decimals.len() > 2 => match number.parse::<f64>() {
            Ok(v) => {
                let text = format!("{v:.2}");
                text.trim_end_matches('0').trim_end_matches('.').to_string()
            }
            Err(_) => number.to_string(),
        },
        _ => number.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_tags_keep_two_decimals_and_text_is_untouched() {
        let svg = r#"<text x="14" font-size="16.129032258064516" opacity="1">p 0.123456 s</text>"#;
        assert_eq!(compact(svg), r#"<text x="14" font-size="16.13">p 0.123456 s</text>"#);
    }

    #[test]
    fn a_line_drawn_with_the_dash_mark_is_dashed() {
        let svg = format!(r##"<polyline fill="none" opacity="{DASH_MARK}" stroke="#000000" points="1,2 3,4 "/>"##);
        assert_eq!(
            compact(&svg),
            r##"<polyline fill="none" stroke-dasharray="6 4" stroke="#000000" points="1,2 3,4 "/>"##
        );
    }
}
