//! Commands sent and not yet answered, keyed by `requestId`.
//!
//! The cloud correlates only by the top-level `requestId` and may answer in any order, twice, or
//! not at all (`docs/anova-protocol.md` §2). Every entry has a deadline, so the table cannot grow
//! without bound even when responses never come; entries whose caller gave up are pruned too.

use crate::cloud::CloudError;
use crate::wire::Response;
use std::collections::HashMap;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// Where a command's result goes.
pub(crate) type Reply = oneshot::Sender<Result<(), CloudError>>;

/// What became of a `RESPONSE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resolution {
    /// It answered a pending command.
    Answered,
    /// No command is waiting for it: unknown, late, or a duplicate.
    Unmatched,
}

struct Pending {
    reply: Reply,
    deadline: Instant,
}

/// The commands in flight on the current connection.
#[derive(Default)]
pub(crate) struct PendingRequests {
    entries: HashMap<String, Pending>,
}

impl PendingRequests {
    /// Records a command sent with `request_id`; also drops entries whose caller is gone.
    pub(crate) fn insert(&mut self, request_id: String, reply: Reply, deadline: Instant) {
        self.entries.retain(|_, pending| !pending.reply.is_closed());
        self.entries.insert(request_id, Pending { reply, deadline });
    }

    /// Hands a `RESPONSE` to its caller: `Ok` for status `ok`, else the cloud's error text.
    pub(crate) fn resolve(&mut self, response: &Response) -> Resolution {
        let Some(pending) = self.entries.remove(&response.request_id) else {
            return Resolution::Unmatched;
        };
        let result = if response.is_ok() {
            Ok(())
        } else {
            let text = response
                .error
                .clone()
                .filter(|text| !text.trim().is_empty())
                .unwrap_or_else(|| format!("status {:?}", response.status));
            Err(CloudError::Rejected(text))
        };
        // The caller may have stopped waiting; nothing more to do then.
        let _ = pending.reply.send(result);
        Resolution::Answered
    }

    /// Fails every command whose deadline passed with [`CloudError::Timeout`]; returns how
    /// many.
    pub(crate) fn expire(&mut self, now: Instant) -> usize {
        let expired: Vec<String> = self
            .entries
            .iter()
            .filter(|(_, pending)| pending.deadline <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &expired {
            if let Some(pending) = self.entries.remove(id) {
                let _ = pending.reply.send(Err(CloudError::Timeout));
            }
        }
        expired.len()
    }

    /// The earliest deadline, to sleep until.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.entries.values().map(|pending| pending.deadline).min()
    }

    /// Fails every command in flight (at disconnect or shutdown).
    pub(crate) fn fail_all(&mut self, error: &CloudError) {
        for (_, pending) in self.entries.drain() {
            let _ = pending.reply.send(Err(error.clone()));
        }
    }

    /// How many commands are in flight.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::sync::oneshot::error::TryRecvError;

    fn entry(
        table: &mut PendingRequests,
        id: &str,
        deadline: Instant,
    ) -> oneshot::Receiver<Result<(), CloudError>> {
        let (reply, answer) = oneshot::channel();
        table.insert(id.to_owned(), reply, deadline);
        answer
    }

    #[test]
    fn responses_find_their_command_in_any_order_once() {
        let later = Instant::now() + Duration::from_secs(10);
        let mut table = PendingRequests::default();
        let mut first = entry(&mut table, "r1", later);
        let mut second = entry(&mut table, "r2", later);

        assert_eq!(
            table.resolve(&Response::error("r2", "invalid command")),
            Resolution::Answered
        );
        assert_eq!(table.resolve(&Response::ok("r1")), Resolution::Answered);
        assert_eq!(table.resolve(&Response::ok("r1")), Resolution::Unmatched);
        assert_eq!(
            table.resolve(&Response::ok("nobody")),
            Resolution::Unmatched
        );

        assert_eq!(first.try_recv(), Ok(Ok(())));
        assert_eq!(
            second.try_recv(),
            Ok(Err(CloudError::Rejected("invalid command".to_owned())))
        );
        assert_eq!(table.len(), 0);
    }

    #[test]
    fn an_error_without_text_names_its_status() {
        let mut table = PendingRequests::default();
        let mut answer = entry(&mut table, "r", Instant::now() + Duration::from_secs(1));
        let response = Response {
            request_id: "r".to_owned(),
            status: "failed".to_owned(),
            error: None,
            data: None,
        };
        table.resolve(&response);
        assert_eq!(
            answer.try_recv(),
            Ok(Err(CloudError::Rejected("status \"failed\"".to_owned())))
        );
    }

    #[test]
    fn deadlines_expire_with_timeout_and_nothing_leaks() {
        let t0 = Instant::now();
        let mut table = PendingRequests::default();
        let mut soon = entry(&mut table, "soon", t0 + Duration::from_secs(1));
        let mut late = entry(&mut table, "late", t0 + Duration::from_secs(5));
        assert_eq!(table.next_deadline(), Some(t0 + Duration::from_secs(1)));

        assert_eq!(table.expire(t0 + Duration::from_secs(1)), 1);
        assert_eq!(soon.try_recv(), Ok(Err(CloudError::Timeout)));
        assert_eq!(late.try_recv(), Err(TryRecvError::Empty));
        assert_eq!(table.next_deadline(), Some(t0 + Duration::from_secs(5)));

        table.fail_all(&CloudError::Disconnected);
        assert_eq!(late.try_recv(), Ok(Err(CloudError::Disconnected)));
        assert_eq!(table.len(), 0);
        assert_eq!(table.next_deadline(), None);
    }

    #[test]
    fn abandoned_callers_are_pruned() {
        let later = Instant::now() + Duration::from_secs(10);
        let mut table = PendingRequests::default();
        drop(entry(&mut table, "gone", later));
        let _kept = entry(&mut table, "kept", later);
        assert_eq!(table.len(), 1);
    }
}
