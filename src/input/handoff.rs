//! Rows handed from the thread that reads a table to the one that collects them. Reading a row
//! (parsing, cells, a person's ID, name and e-mail cleaned, who is current) takes as long as
//! collecting it, so on a large export the two run side by side. What the reading side would
//! tell the sink is recorded, a batch at a time, and told in the same order on the other side.

use std::ops::Range;
use std::sync::mpsc::{Receiver, SyncSender};

use super::RowSink;
use crate::normalize::{ListKind, RowIn, Source, TableId, TableRef, Why};

/// Rows (and what was said about them) per hand-over.
const BATCH_EVENTS: usize = 512;

/// Batches on their way at once: enough to smooth the two sides' pace, few enough to hold
/// little memory.
pub const IN_FLIGHT: usize = 4;

/// What the reading side said, in order, with the text it pointed at copied into one buffer.
#[derive(Default)]
pub struct Batch {
    text: String,
    events: Vec<Event>,
}

enum Event {
    Row(Row),
    Problem(Row, Range<u32>, String),
    Warning(Row, Range<u32>, String),
    LeftOut(Row, Why),
    KindRow(usize, Row),
}

/// A [`RowIn`] whose strings are ranges of the batch's text.
struct Row {
    organization: Range<u32>,
    name: Range<u32>,
    code: Option<Range<u32>>,
    source: Source,
    kind: ListKind,
    user: Option<Range<u32>>,
    person_name: Option<Range<u32>>,
    email: Option<Range<u32>>,
    parent: Option<Range<u32>>,
    path: Option<Range<u32>>,
}

impl Batch {
    fn keep(&mut self, s: &str) -> Range<u32> {
        let start = self.text.len();
        self.text.push_str(s);
        // A batch holds a few hundred rows of cells capped in size: far below 4 GiB.
        start as u32..self.text.len() as u32
    }

    fn row(&mut self, r: &RowIn<'_>) -> Row {
        Row {
            organization: self.keep(r.organization),
            name: self.keep(r.name),
            code: r.code.map(|s| self.keep(s)),
            source: r.source,
            kind: r.kind,
            user: r.user.map(|s| self.keep(s)),
            person_name: r.person_name.map(|s| self.keep(s)),
            email: r.email.map(|s| self.keep(s)),
            parent: r.parent.map(|s| self.keep(s)),
            path: r.path.map(|s| self.keep(s)),
        }
    }

    /// Tells `sink` everything recorded, in order, and leaves the batch empty.
    pub fn replay(&mut self, sink: &mut dyn RowSink) {
        let Batch { text: buffer, events } = self;
        let text = |r: &Range<u32>| &buffer[r.start as usize..r.end as usize];
        let row = |r: &Row| RowIn {
            organization: text(&r.organization),
            name: text(&r.name),
            code: r.code.as_ref().map(text),
            source: r.source,
            kind: r.kind,
            user: r.user.as_ref().map(text),
            person_name: r.person_name.as_ref().map(text),
            email: r.email.as_ref().map(text),
            parent: r.parent.as_ref().map(text),
            path: r.path.as_ref().map(text),
        };
        for event in events.drain(..) {
            match event {
                Event::Row(r) => sink.row(row(&r)),
                Event::Problem(r, column, message) => sink.problem(&row(&r), text(&column), message),
                Event::Warning(r, column, message) => sink.warning(&row(&r), text(&column), message),
                Event::LeftOut(r, why) => sink.left_out(&row(&r), why),
                Event::KindRow(k, r) => sink.kind_row(k, row(&r)),
            }
        }
        buffer.clear();
    }
}

/// The reading side's sink: records, and hands each full batch over.
pub struct Recorder {
    batch: Batch,
    full: SyncSender<Batch>,
    /// Batches told already, for their buffers.
    empty: Receiver<Batch>,
}

impl Recorder {
    /// A recorder handing batches to `full`, reusing those that come back on `empty`.
    pub fn new(full: SyncSender<Batch>, empty: Receiver<Batch>) -> Self {
        Recorder {
            batch: Batch::default(),
            full,
            empty,
        }
    }

    fn push(&mut self, event: Event) {
        self.batch.events.push(event);
        if self.batch.events.len() == BATCH_EVENTS {
            self.flush();
        }
    }

    /// Hands over what is recorded (the other side gone: nothing is waited for).
    pub fn flush(&mut self) {
        if self.batch.events.is_empty() {
            return;
        }
        let next = self.empty.try_recv().unwrap_or_default();
        let _ = self.full.send(std::mem::replace(&mut self.batch, next));
    }
}

impl RowSink for Recorder {
    fn table(&mut self, _table: TableRef) -> TableId {
        unreachable!("a table is announced before its rows are read")
    }
    fn row(&mut self, row: RowIn<'_>) {
        let row = self.batch.row(&row);
        self.push(Event::Row(row));
    }
    fn problem(&mut self, row: &RowIn<'_>, column: &str, message: String) {
        let (row, column) = (self.batch.row(row), self.batch.keep(column));
        self.push(Event::Problem(row, column, message));
    }
    fn warning(&mut self, row: &RowIn<'_>, column: &str, message: String) {
        let (row, column) = (self.batch.row(row), self.batch.keep(column));
        self.push(Event::Warning(row, column, message));
    }
    fn left_out(&mut self, row: &RowIn<'_>, why: Why) {
        let row = self.batch.row(row);
        self.push(Event::LeftOut(row, why));
    }
    fn kind_row(&mut self, kind: usize, row: RowIn<'_>) {
        let row = self.batch.row(&row);
        self.push(Event::KindRow(kind, row));
    }
}
