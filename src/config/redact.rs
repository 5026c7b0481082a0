//! Secrets out of TOML syntax errors. The TOML parser's message quotes the offending line
//! (`2 | token = "anova-…`); when that line holds a secret, its value is shown as
//! `[redacted]` instead.
//!
//! A line holds a secret when it assigns `token` or `password` (at any depth: `anova.token`,
//! an inline table's `{ token = … }`), when it is inside a multi-line string such an
//! assignment opened, or, for the part between `://` and `@`, when it holds a URL with
//! credentials (`mqtt://user:password@host`). Which lines those are is read from the file
//! itself, since the broken line alone cannot say whether it continues a secret string.

use crate::secret::REDACTED;
use std::collections::BTreeSet;

/// The keys whose values are secrets.
const SECRET_KEYS: [&str; 2] = ["token", "password"];

/// `message` (a TOML parser's error about `file`, the file's text) with the value of every
/// quoted line that holds a secret replaced by `[redacted]`.
pub(super) fn toml_error(message: &str, file: &str) -> String {
    let secret = secret_lines(file);
    message
        .split_inclusive('\n')
        .map(|line| redact_quoted(line, &secret))
        .collect()
}

/// A quoted source line is `<number> | <text>`; others pass unchanged (but for URL
/// credentials, which never belong in a message).
fn redact_quoted(line: &str, secret: &BTreeSet<usize>) -> String {
    let quoted = line.split_once(" | ").and_then(|(number, text)| {
        let number = number.trim().parse::<usize>().ok()?;
        Some((number, text, line.len() - text.len()))
    });
    let Some((number, text, prefix)) = quoted else {
        return url_credentials(line);
    };
    let head = &line[..prefix];
    let text = if !secret.contains(&number) {
        url_credentials(text)
    } else {
        let ending = if text.ends_with('\n') { "\n" } else { "" };
        match secret_assignment(text) {
            // Keep the key, so the user sees which line it is.
            Some(value_at) => format!("{} {REDACTED}{ending}", text[..value_at].trim_end()),
            None => format!("{REDACTED}{ending}"),
        }
    };
    format!("{head}{text}")
}

/// The 1-based numbers of the lines of `file` that hold a secret value.
fn secret_lines(file: &str) -> BTreeSet<usize> {
    let mut lines = BTreeSet::new();
    // The closing delimiter of a multi-line string that a secret key opened.
    let mut open: Option<&str> = None;
    for (i, line) in file.lines().enumerate() {
        let number = i + 1;
        if let Some(delimiter) = open {
            lines.insert(number);
            if line.contains(delimiter) {
                open = None;
            }
            continue;
        }
        let Some(value_at) = secret_assignment(line) else {
            continue;
        };
        lines.insert(number);
        let value = line[value_at..].trim_start();
        for delimiter in ["\"\"\"", "'''"] {
            if let Some(rest) = value.strip_prefix(delimiter) {
                if !rest.contains(delimiter) {
                    open = Some(delimiter);
                }
            }
        }
    }
    lines
}

/// Where the value of a secret key's assignment starts in `line` (just after its `=`).
fn secret_assignment(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    for key in SECRET_KEYS {
        for (at, _) in line.match_indices(key) {
            // A whole key: `token`, `"token"`, `anova.token`, `{ token`, not `token_file`.
            let before = at.checked_sub(1).map(|i| bytes[i]);
            if !matches!(
                before,
                None | Some(b' ' | b'\t' | b'.' | b'{' | b',' | b'"' | b'\'')
            ) {
                continue;
            }
            let rest = &line[at + key.len()..];
            let rest = rest.strip_prefix(['"', '\'']).unwrap_or(rest);
            if let Some(after) = rest.trim_start().strip_prefix('=') {
                return Some(line.len() - after.len());
            }
        }
    }
    None
}

/// `scheme://user:password@host` → `scheme://[redacted]@host`, wherever it occurs.
fn url_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let authority_end = after
            .find(['/', '"', '\'', ' ', '?', '#', '\n'])
            .unwrap_or(after.len());
        match after[..authority_end].rfind('@') {
            Some(user_end) => {
                out.push_str(REDACTED);
                rest = &after[user_end..];
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message as the TOML parser writes it, for `file`'s line `n`.
    fn message(file: &str, n: usize) -> String {
        let line = file.lines().nth(n - 1).unwrap();
        format!(
            "TOML parse error at line {n}, column 3\n  |\n{n} | {line}\n  |   ^\ninvalid string\n"
        )
    }

    #[test]
    fn a_secret_on_the_broken_line_is_redacted_and_its_key_kept() {
        for (file, n, shown) in [
            (
                "[anova]\ntoken = \"anova-SECRET\n",
                2,
                "2 | token = [redacted]\n",
            ),
            (
                "[mqtt]\npassword = pw-SECRET\n",
                2,
                "2 | password = [redacted]\n",
            ),
            (
                "anova.token = 'anova-SECRET\n",
                1,
                "1 | anova.token = [redacted]\n",
            ),
            (
                "anova = { token = \"anova-SECRET\", url = 5\n",
                1,
                "1 | anova = { token = [redacted]\n",
            ),
            (
                "[http]\n\"token\" = \"SECRET\n",
                2,
                "2 | \"token\" = [redacted]\n",
            ),
        ] {
            let redacted = toml_error(&message(file, n), file);
            assert!(redacted.contains(shown), "{redacted}");
            assert!(!redacted.contains("SECRET"), "{redacted}");
            assert!(redacted.starts_with("TOML parse error at line"));
            assert!(redacted.ends_with("invalid string\n"));
        }
    }

    #[test]
    fn a_multi_line_secret_string_is_redacted_on_every_line() {
        let file = "[http]\ntoken = \"\"\"\nSECRET-1\nSECRET-2\n";
        for n in [2, 3, 4] {
            let redacted = toml_error(&message(file, n), file);
            assert!(!redacted.contains("SECRET"), "{redacted}");
        }
        // After a closed one, lines are shown again.
        let file = "[http]\ntoken = '''\nSECRET\n'''\nlisten = x\n";
        assert!(toml_error(&message(file, 5), file).contains("5 | listen = x"));
    }

    #[test]
    fn other_lines_are_shown_but_never_url_credentials() {
        let file = "[anova]\ntoken_file = \"/etc/x\nurl = \"mqtt://user:pw-SECRET@broker:1883\n";
        assert!(toml_error(&message(file, 2), file).contains("2 | token_file = \"/etc/x"));
        let redacted = toml_error(&message(file, 3), file);
        assert!(
            redacted.contains("3 | url = \"mqtt://[redacted]@broker:1883"),
            "{redacted}"
        );
        assert_eq!(url_credentials("ws://h/?a=b@c"), "ws://h/?a=b@c");
        assert_eq!(url_credentials("a://u@h b://h"), "a://[redacted]@h b://h");
    }
}
