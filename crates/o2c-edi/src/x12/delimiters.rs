//! The delimiters of an interchange, read from its ISA segment.

use serde::Serialize;

use crate::error::EdiError;

/// The delimiters of one interchange, as its ISA declares them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Delimiters {
    /// The character after `ISA`, usually `*`.
    pub element: char,
    /// ISA16, usually `:` or `>`.
    pub component: char,
    /// ISA11 from version 00402 on (usually `^`); before that ISA11 is the standards
    /// identifier `U` and elements do not repeat.
    pub repetition: Option<char>,
    /// The character after ISA16, usually `~`; a carriage return or line feed when the sender
    /// ends segments with line breaks.
    pub segment: char,
}

impl Delimiters {
    /// True when segments end at line breaks (CR, LF or CR LF all end one).
    pub fn terminator_is_line_break(&self) -> bool {
        is_line_break(self.segment)
    }
}

/// The ISA segment as read.
#[derive(Debug)]
pub(crate) struct Isa {
    /// ISA01…ISA16 as written, padding kept.
    pub elements: Vec<String>,
    pub delimiters: Delimiters,
    /// Bytes from `ISA` through the segment terminator.
    pub len: usize,
    pub warnings: Vec<String>,
}

/// The widths of ISA01…ISA16: 3 + 16 separators + 86 + terminator = 106 characters.
const WIDTHS: [usize; 16] = [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1];
const FIXED_LENGTH: usize = 106;
/// How far to look for the 16th element separator: beyond this the "ISA" is not one.
const SEARCH_LIMIT: usize = 130;

fn is_line_break(c: char) -> bool {
    matches!(c, '\r' | '\n')
}

fn shown(c: char) -> String {
    match c {
        ' ' => "a space".to_string(),
        '\t' => "a tab".to_string(),
        '\r' => "a carriage return".to_string(),
        '\n' => "a line feed".to_string(),
        c if c.is_whitespace() => format!("the white space U+{:04X}", u32::from(c)),
        c => format!("`{c}`"),
    }
}

fn ambiguous(delimiter: &'static str, shown: String, reason: &'static str) -> EdiError {
    EdiError::AmbiguousDelimiter {
        delimiter,
        shown,
        reason,
    }
}

/// Refuses a delimiter that can also be element data.
fn refuse_data_character(delimiter: &'static str, c: char) -> Result<(), EdiError> {
    if c.is_whitespace() {
        return Err(ambiguous(
            delimiter,
            shown(c),
            "white space also occurs inside element data, so the delimiter cannot be told apart from it",
        ));
    }
    if c.is_alphanumeric() {
        return Err(ambiguous(
            delimiter,
            shown(c),
            "letters and digits are element data, so the delimiter cannot be told apart from it",
        ));
    }
    Ok(())
}

/// Reads the ISA at the start of `text` (which starts with `ISA`).
pub(crate) fn read_isa(text: &str) -> Result<Isa, EdiError> {
    let chars: Vec<(usize, char)> = text.char_indices().take(SEARCH_LIMIT + 3).collect();
    let char_at = |i: usize| chars.get(i).map(|&(_, c)| c);
    let element = char_at(3).ok_or(EdiError::IncompleteIsa {
        found: 0,
        limit: SEARCH_LIMIT,
    })?;
    refuse_data_character("element separator (the character after ISA)", element)?;

    let separators = separator_positions(&chars, element)?;
    let last = separators[15];
    let component = match char_at(last + 1) {
        Some(c) if !is_line_break(c) => c,
        _ => {
            return Err(ambiguous(
                "component separator (ISA16)",
                "missing".to_string(),
                "nothing follows the last element separator of the ISA",
            ));
        }
    };
    refuse_data_character("component separator (ISA16)", component)?;
    if component == element {
        return Err(ambiguous(
            "component separator (ISA16)",
            shown(component),
            "it is also the element separator",
        ));
    }
    let (terminator_offset, segment) = chars.get(last + 2).copied().ok_or_else(|| {
        ambiguous(
            "segment terminator",
            "missing".to_string(),
            "the input ends after ISA16",
        )
    })?;
    check_terminator(segment, char_at(last + 3), element, component)?;

    let mut elements: Vec<String> = separators
        .windows(2)
        .map(|w| chars[w[0] + 1..w[1]].iter().map(|&(_, c)| c).collect())
        .collect();
    elements.push(component.to_string());

    let mut warnings = Vec::new();
    if let Some(warning) = width_warning(&elements, last + 3) {
        warnings.push(warning);
    }
    if is_line_break(segment) {
        warnings.push(
            "ISA: nothing follows ISA16 on its line, so the line break is taken as the segment \
             terminator"
                .to_string(),
        );
    }
    let mut delimiters = Delimiters {
        element,
        component,
        repetition: None,
        segment,
    };
    delimiters.repetition = repetition_separator(&elements, &delimiters, &mut warnings);
    Ok(Isa {
        elements,
        delimiters,
        len: terminator_offset + segment.len_utf8(),
        warnings,
    })
}

/// Where the 16 element separators are: at their fixed positions when the ISA is the fixed
/// width (so a separator character inside an element does no harm), else wherever they are.
fn separator_positions(chars: &[(usize, char)], element: char) -> Result<[usize; 16], EdiError> {
    let mut fixed = [3; 16];
    for k in 1..16 {
        fixed[k] = fixed[k - 1] + WIDTHS[k - 1] + 1;
    }
    if fixed
        .iter()
        .all(|&i| chars.get(i).map(|&(_, c)| c) == Some(element))
    {
        return Ok(fixed);
    }
    let mut found = [0; 16];
    let mut count = 0;
    for (i, &(_, c)) in chars.iter().enumerate().skip(3) {
        if is_line_break(c) || i >= SEARCH_LIMIT {
            break;
        }
        if c == element {
            found[count] = i;
            count += 1;
            if count == 16 {
                return Ok(found);
            }
        }
    }
    Err(EdiError::IncompleteIsa {
        found: count,
        limit: SEARCH_LIMIT,
    })
}

fn check_terminator(
    segment: char,
    next: Option<char>,
    element: char,
    component: char,
) -> Result<(), EdiError> {
    const WHAT: &str = "segment terminator (the character after ISA16)";
    if is_line_break(segment) {
        return Ok(());
    }
    if segment.is_whitespace() {
        let shown = match next {
            Some(n) if is_line_break(n) => format!("{} followed by a line break", shown(segment)),
            _ => shown(segment),
        };
        return Err(ambiguous(
            WHAT,
            shown,
            "white space also occurs inside element data, so segments cannot be told apart",
        ));
    }
    refuse_data_character(WHAT, segment)?;
    if segment == element || segment == component {
        return Err(ambiguous(
            WHAT,
            shown(segment),
            "it is also the element or component separator",
        ));
    }
    Ok(())
}

/// Says which elements make the ISA other than 106 characters, if any.
fn width_warning(elements: &[String], length: usize) -> Option<String> {
    let wrong: Vec<String> = elements
        .iter()
        .zip(WIDTHS)
        .enumerate()
        .filter_map(|(i, (value, width))| {
            let found = value.chars().count();
            (found != width).then(|| {
                format!(
                    "ISA{:02} is {found} characters wide (expected {width})",
                    i + 1
                )
            })
        })
        .collect();
    if wrong.is_empty() {
        return None;
    }
    Some(format!(
        "ISA is {length} characters long, not the fixed {FIXED_LENGTH}: {}; read by its \
         separators instead",
        wrong.join(", ")
    ))
}

/// ISA11 is the repetition separator from version 00402 on.
fn repetition_separator(
    elements: &[String],
    delimiters: &Delimiters,
    warnings: &mut Vec<String>,
) -> Option<char> {
    let version_text = elements.get(11).map(|v| v.trim()).unwrap_or_default();
    let Ok(version) = version_text.parse::<u32>() else {
        warnings.push(format!(
            "ISA12 `{version_text}` is not a version number; repetitions are not split"
        ));
        return None;
    };
    if version < 402 {
        return None;
    }
    let isa11 = elements.get(10).map(String::as_str).unwrap_or_default();
    let mut chars = isa11.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None)
            if !c.is_alphanumeric()
                && !c.is_whitespace()
                && c != delimiters.element
                && c != delimiters.component
                && c != delimiters.segment =>
        {
            Some(c)
        }
        _ => {
            warnings.push(format!(
                "ISA11 `{isa11}` is not a usable repetition separator although ISA12 is \
                 {version_text}; repetitions are not split"
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXED: &str = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261123*1200*^*00501*000000001*0*P*:~GS*";

    #[test]
    fn a_fixed_width_isa_gives_all_four_delimiters() {
        let isa = read_isa(FIXED).unwrap();
        assert_eq!(
            isa.delimiters,
            Delimiters {
                element: '*',
                component: ':',
                repetition: Some('^'),
                segment: '~'
            }
        );
        assert_eq!(isa.len, 106);
        assert_eq!(isa.elements.len(), 16);
        assert_eq!(isa.elements[5], "SENDER         ");
        assert!(isa.warnings.is_empty(), "{:?}", isa.warnings);
    }

    #[test]
    fn a_separator_inside_a_fixed_width_element_does_no_harm() {
        let text = FIXED.replace("*SENDER         *", "*SEND*ER        *");
        let isa = read_isa(&text).unwrap();
        assert_eq!(isa.elements[5], "SEND*ER        ");
        assert!(isa.warnings.is_empty(), "{:?}", isa.warnings);
    }

    #[test]
    fn before_00402_isa11_is_not_a_repetition_separator() {
        let text = FIXED.replace("*^*00501*", "*U*00401*");
        assert_eq!(read_isa(&text).unwrap().delimiters.repetition, None);
    }

    #[test]
    fn a_narrow_element_is_accepted_with_a_warning_naming_it() {
        let text = FIXED.replace("SENDER         ", "SENDER");
        let isa = read_isa(&text).unwrap();
        assert_eq!(isa.delimiters.segment, '~');
        assert_eq!(
            isa.warnings,
            [
                "ISA is 97 characters long, not the fixed 106: ISA06 is 6 characters wide \
              (expected 15); read by its separators instead"
            ]
        );
    }

    #[test]
    fn a_space_as_terminator_is_refused() {
        let text = FIXED.replace(":~GS", ": \r\nGS");
        let err = read_isa(&text).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ISA: the segment terminator (the character after ISA16) is a space followed by a \
             line break: white space also occurs inside element data, so segments cannot be told \
             apart"
        );
    }

    #[test]
    fn clashing_or_missing_delimiters_are_refused() {
        assert!(read_isa(&FIXED.replace(":~GS", "::GS")).is_err());
        assert!(read_isa(&FIXED.replace(":~GS", ":AGS")).is_err());
        assert!(read_isa(&FIXED.replace(":~GS", "*~GS")).is_err());
        assert!(matches!(
            read_isa(&FIXED[..60]),
            Err(EdiError::IncompleteIsa { found: 8, .. })
        ));
        assert!(read_isa("ISA").is_err());
        assert!(read_isa("ISA 00").is_err());
    }
}
