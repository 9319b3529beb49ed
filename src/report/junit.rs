//! A [`CheckReport`] as JUnit XML, the test report format CI systems display: one test suite
//! for the model, one test case per expectation, a `<failure>` for each that did not hold and an
//! `<error>` for each that could not be judged (its run was cut short by a bound of the run).

use super::markup::escape;
use crate::analysis::expect::{CheckReport, ExpectationResult};

/// The report as a JUnit XML document (with a trailing newline).
pub fn junit_xml(report: &CheckReport) -> String {
    let class = format!("capsim.{}", class_name(&report.model));
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\">\n",
        escape(&format!("capsim: {}", report.model)),
        report.results.len(),
        report.failed(),
        report.not_judged()
    ));
    for result in &report.results {
        xml.push_str(&format!(
            "  <testcase classname=\"{}\" name=\"{}\"",
            escape(&class),
            escape(&case_name(result))
        ));
        if result.passed {
            xml.push_str(&format!(
                ">\n    <system-out>{}</system-out>\n  </testcase>\n",
                escape(&detail(result))
            ));
        } else if !result.judged {
            xml.push_str(&format!(
                ">\n    <error message=\"{}\" type=\"stopped\">{}</error>\n  </testcase>\n",
                escape("not judged: the run was cut short (--max-events, --max-wall or Ctrl-C)"),
                escape(&detail(result))
            ));
        } else {
            xml.push_str(&format!(
                ">\n    <failure message=\"{}\" type=\"expectation\">{}</failure>\n  </testcase>\n",
                escape(&format!("measured {}, bound {}", result.measured_text(), result.bound_text())),
                escape(&detail(result))
            ));
        }
    }
    xml.push_str("</testsuite>\n");
    xml
}

/// `[scenario] claim`, `[baseline] claim` for the model as written.
fn case_name(result: &ExpectationResult) -> String {
    format!("[{}] {}", result.scenario.as_deref().unwrap_or("baseline"), result.that)
}

/// The verdict line with its note, as the terminal shows it.
fn detail(result: &ExpectationResult) -> String {
    format!("expect[{}]: {}", result.index, result.line())
}

/// A model name usable as the last part of a JUnit class name (viewers split class names on dots).
fn class_name(model: &str) -> String {
    let name: String = model
        .chars()
        .map(|c| if c.is_alphanumeric() || c == '_' || c == '-' { c } else { '_' })
        .collect();
    if name.is_empty() {
        "model".into()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Estimate;

    /// An element read back: its name, attributes (unescaped) and children.
    #[derive(Debug)]
    struct Element {
        name: String,
        attributes: Vec<(String, String)>,
        children: Vec<Element>,
    }

    impl Element {
        fn attribute(&self, name: &str) -> Option<&str> {
            self.attributes.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
        }
    }

    /// Unescape the five named entities and numeric references; a bare `&` or `<` is an error.
    fn unescape(text: &str) -> Result<String, String> {
        if text.contains('<') {
            return Err(format!("unescaped < in {text:?}"));
        }
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find('&') {
            out.push_str(&rest[..at]);
            let end = rest[at..].find(';').ok_or_else(|| format!("bare & in {text:?}"))? + at;
            let entity = &rest[at + 1..end];
            out.push(match entity {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                _ => entity
                    .strip_prefix('#')
                    .and_then(|n| n.parse::<u32>().ok())
                    .and_then(char::from_u32)
                    .ok_or_else(|| format!("unknown entity &{entity}; in {text:?}"))?,
            });
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// A tiny XML checker: one root element, balanced tags, quoted and escaped attributes,
    /// escaped text. Enough for what [`junit_xml`] writes; not a general parser.
    fn parse(xml: &str) -> Result<Element, String> {
        let body = xml
            .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
            .ok_or("no XML declaration")?;
        let mut stack: Vec<Element> = vec![Element {
            name: String::new(),
            attributes: vec![],
            children: vec![],
        }];
        let mut rest = body;
        while !rest.is_empty() {
            let Some(open) = rest.find('<') else {
                unescape(rest)?;
                break;
            };
            unescape(&rest[..open])?;
            let close = rest[open..].find('>').ok_or("unclosed tag")? + open;
            let tag = &rest[open + 1..close];
            rest = &rest[close + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                let element = stack
                    .pop()
                    .filter(|_| !stack.is_empty())
                    .ok_or("close tag without an open one")?;
                if element.name != name {
                    return Err(format!("<{}> closed by </{name}>", element.name));
                }
                stack.last_mut().unwrap().children.push(element);
                continue;
            }
            let (tag, self_closing) = match tag.strip_suffix('/') {
                Some(t) => (t, true),
                None => (tag, false),
            };
            let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
            let name = &tag[..name_end];
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                return Err(format!("bad tag name {name:?}"));
            }
            let mut attributes = Vec::new();
            let mut attrs = tag[name_end..].trim_start();
            while !attrs.is_empty() {
                let eq = attrs
                    .find("=\"")
                    .ok_or_else(|| format!("attribute without a quoted value in <{tag}>"))?;
                let key = attrs[..eq].trim();
                let value_end = attrs[eq + 2..].find('"').ok_or("unterminated attribute")? + eq + 2;
                let value = unescape(&attrs[eq + 2..value_end])?;
                if attributes.iter().any(|(k, _)| k == key) {
                    return Err(format!("attribute {key} twice"));
                }
                attributes.push((key.to_string(), value));
                attrs = attrs[value_end + 1..].trim_start();
            }
            let element = Element {
                name: name.to_string(),
                attributes,
                children: vec![],
            };
            if self_closing {
                stack.last_mut().unwrap().children.push(element);
            } else {
                stack.push(element);
            }
        }
        let mut document = stack.pop().ok_or("unbalanced")?;
        if !stack.is_empty() || !document.name.is_empty() {
            return Err(format!("<{}> is never closed", document.name));
        }
        if document.children.len() != 1 {
            return Err(format!("{} root elements", document.children.len()));
        }
        Ok(document.children.pop().unwrap())
    }

    fn result(index: usize, that: &str, scenario: Option<&str>, passed: bool) -> ExpectationResult {
        ExpectationResult {
            index,
            that: that.into(),
            scenario: scenario.map(str::to_string),
            passed,
            judged: true,
            measured: Estimate::from_samples(&[40.0, 50.0, 60.0]),
            bound: 1.0,
            unit: "ms",
            note: (!passed).then(|| "a note with <markup> & \"quotes\"".to_string()),
        }
    }

    #[test]
    fn hostile_names_survive_a_round_trip() {
        let hostile = "a<b>&c\"d'e\tf\ng\u{1}";
        let report = CheckReport::new(
            hostile,
            vec![
                result(0, "server.serve.p99 < 1s", None, true),
                result(1, "server.serve.p99 <= 1ms", Some(hostile), false),
                result(2, "x.error_rate >= 0 & 'y'", Some("s"), false),
            ],
        );
        let xml = junit_xml(&report);
        let suite = parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
        assert_eq!(suite.name, "testsuite");
        assert_eq!(
            suite.attribute("name"),
            Some(format!("capsim: {}", "a<b>&c\"d'e\tf\ng\u{FFFD}").as_str())
        );
        assert_eq!(suite.attribute("tests"), Some("3"));
        assert_eq!(suite.attribute("failures"), Some("2"));
        let cases: Vec<&Element> = suite.children.iter().collect();
        assert_eq!(cases.len(), 3);
        assert!(cases
            .iter()
            .all(|c| c.name == "testcase" && c.attribute("classname") == Some("capsim.a_b__c_d_e_f_g_")));
        assert_eq!(cases[0].attribute("name"), Some("[baseline] server.serve.p99 < 1s"));
        assert_eq!(
            cases[1].attribute("name"),
            Some("[a<b>&c\"d'e\tf\ng\u{FFFD}] server.serve.p99 <= 1ms")
        );
        assert_eq!(cases[2].attribute("name"), Some("[s] x.error_rate >= 0 & 'y'"));
        assert_eq!(cases[0].children[0].name, "system-out");
        let failure = &cases[1].children[0];
        assert_eq!(failure.name, "failure");
        let message = failure.attribute("message").unwrap();
        assert!(
            message.starts_with("measured 50.0 ms ±") && message.ends_with(", bound 1.00 ms"),
            "{message}"
        );
    }

    #[test]
    fn an_expectation_whose_run_was_cut_short_is_an_error_not_a_failure() {
        let mut stopped = result(1, "server.serve.p99 < 1s", None, false);
        stopped.judged = false;
        let report = CheckReport::new("m", vec![result(0, "server.serve.p99 < 1s", None, true), stopped]);
        let xml = junit_xml(&report);
        let suite = parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
        assert_eq!(suite.attribute("failures"), Some("0"));
        assert_eq!(suite.attribute("errors"), Some("1"));
        assert_eq!(suite.children[1].children[0].name, "error", "{xml}");
        assert_eq!((report.failed(), report.not_judged(), report.passed()), (0, 1, 1));
        assert!(!report.all_passed());
    }

    #[test]
    fn the_checker_rejects_what_is_not_well_formed() {
        let head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
        for bad in [
            "<a><b></a></b>",
            "<a>",
            "<a x=\"1 & 2\"/>",
            "<a x=\"<\"/>",
            "<a>1 < 2</a>",
            "<a/><b/>",
            "<a x=1/>",
        ] {
            assert!(parse(&format!("{head}{bad}")).is_err(), "{bad}");
        }
        assert!(parse(&format!("{head}<a x=\"&lt;&#10;\"><b/>t&amp;</a>\n")).is_ok());
    }
}
