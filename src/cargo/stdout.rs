//! cargo's stdout in a Nix build. With `--message-format=json` it carries
//! cargo's JSON messages, which the log keeps for `rebuilt`, and whatever
//! the programs cargo runs print there (a test harness's results and
//! failures), which belongs in the build log, where people read it.

use std::io::{BufRead, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{IoContext, Result};

/// Appends cargo's stdout (this process's stdin) to the log at `log`, and
/// what is not one of cargo's messages to stderr.
pub fn split_into(log: &Path) -> Result<()> {
    let file = std::fs::File::options().create(true).append(true).open(log);
    let file = std::io::BufWriter::new(file.at(log)?);
    split(std::io::stdin().lock(), file, std::io::stderr())
}

/// Copies every line of `input` to `log`, and the lines that are not
/// cargo's messages to `people`, flushed line by line.
fn split(input: impl BufRead, mut log: impl Write, mut people: impl Write) -> Result<()> {
    let (stdin, log_path, stderr) = (
        Path::new("<stdin>"),
        Path::new("<log>"),
        Path::new("<stderr>"),
    );
    for line in input.split(b'\n') {
        let mut line = line.at(stdin)?;
        line.push(b'\n');
        log.write_all(&line).at(log_path)?;
        if !is_cargo_message(&line) {
            people.write_all(&line).at(stderr)?;
            people.flush().at(stderr)?;
        }
    }
    log.flush().at(log_path)
}

/// A JSON object with a `reason`, as every message of cargo's has.
fn is_cargo_message(line: &[u8]) -> bool {
    message(line).is_some()
}

fn message(line: &[u8]) -> Option<serde_json::Value> {
    if line.first() != Some(&b'{') {
        return None;
    }
    serde_json::from_slice::<serde_json::Value>(line)
        .ok()
        .filter(|m| m.get("reason").is_some_and(|r| r.is_string()))
}

/// cargo's messages in the log at `log` (what `split_into` wrote), without
/// the lines test harnesses printed between them.
pub fn messages(log: &Path) -> Result<Vec<serde_json::Value>> {
    let text = std::fs::read(log).at(log)?;
    Ok(text.split(|&b| b == b'\n').filter_map(message).collect())
}

/// What the test harnesses of a cargo run reported, added up.
#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tests {
    pub passed: u64,
    pub failed: u64,
    pub ignored: u64,
}

/// The harnesses' `test result:` lines in cargo's stdout; None when no
/// test ran.
pub fn tests(stdout: &str) -> Option<Tests> {
    let mut total: Option<Tests> = None;
    for line in stdout.lines() {
        let Some(rest) = line.strip_prefix("test result: ") else {
            continue;
        };
        let sum = total.get_or_insert_with(Tests::default);
        for part in rest.split(['.', ';']) {
            let mut words = part.split_whitespace();
            let (Some(count), Some(what)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(count) = count.parse::<u64>() else {
                continue;
            };
            match what {
                "passed" => sum.passed += count,
                "failed" => sum.failed += count,
                "ignored" => sum.ignored += count,
                _ => {}
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_go_to_the_log_only_and_the_rest_to_people_too() {
        let stdout = "{\"reason\":\"compiler-artifact\",\"fresh\":true}\n\
            running 1 test\n\
            {\"not\":\"cargo's\"}\n\
            test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n";
        let (mut log, mut people) = (Vec::new(), Vec::new());
        split(stdout.as_bytes(), &mut log, &mut people).unwrap();
        assert_eq!(String::from_utf8(log).unwrap(), stdout);
        assert_eq!(
            String::from_utf8(people).unwrap(),
            "running 1 test\n{\"not\":\"cargo's\"}\n\
             test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n"
        );
    }

    #[test]
    fn test_results_add_up_over_harnesses() {
        let stdout = "test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s\n\
            {\"reason\":\"build-finished\"}\n\
            test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.14s\n";
        let counts = tests(stdout).unwrap();
        assert_eq!(
            counts,
            Tests {
                passed: 4,
                failed: 2,
                ignored: 1
            }
        );
        assert_eq!(tests("{\"reason\":\"build-finished\"}\n"), None);
    }
}
