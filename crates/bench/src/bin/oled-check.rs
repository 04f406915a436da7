//! The test scripts' assertions that read JSON, in one small program (exit 0: holds, 1: does not,
//! 2: bad arguments or input).
//!
//! ```text
//! oled-check shows LISTING NAME TEXT   LISTING (a file holding GET /panels?ascii=1) says panel NAME
//!                                      shows TEXT, and its glass is the text engine's rendering
//! oled-check judge HISTORY             the fault judge on a recorded history (oled_bench::judge)
//! ```

use std::process::ExitCode;

use oled_bench::{judge, listing};

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))
}

fn run(args: &[String]) -> Result<bool, String> {
    match args {
        [cmd, file, name, text] if cmd == "shows" => {
            match listing::check_shows(&read(file)?, name, text) {
                Ok(()) => {
                    println!("panel {name} shows {text:?}");
                    Ok(true)
                }
                Err(why) => {
                    println!("{why}");
                    Ok(false)
                }
            }
        }
        [cmd, file] if cmd == "judge" => {
            let (sent, presented) = judge::parse_history(&read(file)?)?;
            let v = judge::judge(&sent, &presented, &judge::Rules::default());
            println!(
                "{}{}",
                v.summary(),
                if v.survived() { "" } else { " NOT SURVIVED" }
            );
            Ok(v.survived())
        }
        _ => Err("usage: oled-check shows LISTING NAME TEXT | oled-check judge HISTORY".into()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("oled-check: {e}");
            ExitCode::from(2)
        }
    }
}
