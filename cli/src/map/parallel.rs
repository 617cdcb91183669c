//! `weft map --jobs N`: a reader thread cuts the input into batches of lines, N workers
//! map them, and the calling thread writes the results in input order. Batches go to the
//! workers in turn and are collected from them in the same turn, so the order needs no
//! sorting; every channel is bounded, so the batches in flight, and the memory they
//! take, stay fixed whatever the input size.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread;

use super::{report, write_error, Failure, Mapper, Tally};

/// A batch ends after this many lines...
const BATCH_LINES: usize = 256;
/// ...or once it holds this many bytes.
const BATCH_BYTES: usize = 1 << 18;
/// Batches waiting in each worker's inbox and outbox.
const QUEUE: usize = 2;

/// Consecutive lines of input.
struct Batch {
    /// The 1-based number of its first line.
    first_line: u64,
    /// Whole lines, each ending in `\n` (the last line of the input may not).
    text: Vec<u8>,
    /// Reading stopped after these lines because of this error.
    read_error: Option<String>,
}

/// A batch, mapped.
struct Mapped {
    /// The results, one JSON line per kept record.
    out: Vec<u8>,
    /// Records that failed, in order.
    failures: Vec<Failure>,
    /// With --fail-fast: the batch stopped at its first failure.
    stopped: bool,
    /// Passed on from the batch, so it is reported in order.
    read_error: Option<String>,
}

/// Maps `input` on `jobs` worker threads and writes to `output` in input order.
pub fn run(
    mapper: &Mapper<'_>,
    input: impl Read + Send,
    mut output: impl Write,
    jobs: usize,
    fail_fast: bool,
) -> Tally {
    let stop = AtomicBool::new(false);
    let mut tally = Tally::default();
    thread::scope(|scope| {
        let mut inboxes = Vec::with_capacity(jobs);
        let mut outboxes = Vec::with_capacity(jobs);
        for _ in 0..jobs {
            let (to_worker, inbox) = sync_channel::<Batch>(QUEUE);
            let (outbox, from_worker) = sync_channel::<Mapped>(QUEUE);
            scope.spawn(move || work(mapper, &inbox, &outbox, fail_fast));
            inboxes.push(to_worker);
            outboxes.push(from_worker);
        }
        let stop = &stop;
        scope.spawn(move || read(input, inboxes, stop));
        write(&outboxes, &mut output, &mut tally, stop);
        // Dropping the outboxes unblocks workers still sending, and through them the
        // reader, so the scope can end after an early stop.
        drop(outboxes);
    });
    if let Err(e) = output.flush() {
        tally.io_error = tally.io_error.or(write_error(&e));
    }
    tally
}

/// Cuts the input into batches and deals them to the workers in turn.
fn read(input: impl Read, workers: Vec<SyncSender<Batch>>, stop: &AtomicBool) {
    let mut input = BufReader::with_capacity(1 << 16, input);
    let mut line = 1u64;
    for turn in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let mut batch = Batch {
            first_line: line,
            text: Vec::with_capacity(BATCH_BYTES / 4),
            read_error: None,
        };
        let mut end = false;
        while !end
            && (line - batch.first_line) < BATCH_LINES as u64
            && batch.text.len() < BATCH_BYTES
        {
            match input.read_until(b'\n', &mut batch.text) {
                Ok(0) => end = true,
                Ok(_) => line += 1,
                Err(e) => {
                    batch.read_error = Some(format!("cannot read stdin: {e}"));
                    end = true;
                }
            }
        }
        let empty = line == batch.first_line && batch.read_error.is_none();
        let worker = &workers[turn % workers.len()];
        if empty || worker.send(batch).is_err() || end {
            break;
        }
    }
}

/// Maps the batches of one worker's inbox.
fn work(
    mapper: &Mapper<'_>,
    inbox: &Receiver<Batch>,
    outbox: &SyncSender<Mapped>,
    fail_fast: bool,
) {
    for batch in inbox {
        let mut mapped = Mapped {
            out: Vec::with_capacity(batch.text.len() / 2),
            failures: Vec::new(),
            stopped: false,
            read_error: batch.read_error,
        };
        for (line, text) in (batch.first_line..).zip(batch.text.split_inclusive(|b| *b == b'\n')) {
            if let Err(failure) = mapper.line(text, line, &mut mapped.out) {
                mapped.failures.push(failure);
                if fail_fast {
                    mapped.stopped = true;
                    break;
                }
            }
        }
        if outbox.send(mapped).is_err() {
            break;
        }
    }
}

/// Collects the mapped batches in turn and writes them out.
fn write(
    workers: &[Receiver<Mapped>],
    output: &mut impl Write,
    tally: &mut Tally,
    stop: &AtomicBool,
) {
    let mut stderr = io::stderr();
    for turn in 0.. {
        let Ok(mapped) = workers[turn % workers.len()].recv() else {
            break;
        };
        if let Err(e) = output.write_all(&mapped.out) {
            tally.io_error = write_error(&e);
            break;
        }
        for failure in &mapped.failures {
            report(&mut stderr, failure);
        }
        tally.failed += mapped.failures.len() as u64;
        if mapped.read_error.is_some() {
            tally.io_error = mapped.read_error;
            break;
        }
        if mapped.stopped {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::super::{mapper, test_program};
    use super::*;

    const SOURCE: &str =
        "schema A { n: Int }\nschema B { half: Int }\nmap halve(a: A) -> B { half = 10 / a.n }\n";

    /// Input that fails with an I/O error after `text`.
    struct Failing(std::io::Cursor<Vec<u8>>);

    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.0.read(buf)? {
                0 => Err(io::Error::other("disk on fire")),
                n => Ok(n),
            }
        }
    }

    fn lines(range: std::ops::Range<i64>) -> Vec<u8> {
        range
            .map(|n| format!("{{\"n\":{n}}}\n"))
            .collect::<String>()
            .into_bytes()
    }

    #[test]
    fn batches_come_out_in_order_with_their_failures_counted() {
        let program = test_program(SOURCE);
        let Ok(mapper) = mapper("halve", false, &program) else {
            panic!("no mapper");
        };
        // Several batches per worker, a failure (n = 0) in the middle.
        let input = lines(-1000..1000);
        let mut out = Vec::new();
        let tally = run(&mapper, &input[..], &mut out, 3, false);
        assert_eq!(tally.failed, 1);
        assert_eq!(tally.io_error, None);
        let expected: String = (-1000..1000i64)
            .filter(|n| *n != 0)
            .map(|n| format!("{{\"half\":{}}}\n", 10 / n))
            .collect();
        assert_eq!(String::from_utf8_lossy(&out), expected);
    }

    #[test]
    fn a_read_error_ends_the_run_after_the_lines_before_it() {
        let program = test_program(SOURCE);
        let Ok(mapper) = mapper("halve", false, &program) else {
            panic!("no mapper");
        };
        let input = Failing(std::io::Cursor::new(lines(1..600)));
        let mut out = Vec::new();
        let tally = run(&mapper, input, &mut out, 2, false);
        assert_eq!(
            tally.io_error.as_deref(),
            Some("cannot read stdin: disk on fire")
        );
        assert_eq!(String::from_utf8_lossy(&out).lines().count(), 599);
    }
}
