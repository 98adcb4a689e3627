//! Hrana-over-HTTP streams: each keeps one SQLite connection (and its stored SQL texts)
//! alive across HTTP requests, reached with a baton.
//!
//! A baton is `<stream id: 16 hex><secret: 32 hex>`; the secret is 128 random bits drawn
//! anew for every response, so batons are unpredictable, and each one works once (a reused
//! or forged baton is refused). A stream idle for [`STREAM_IDLE`] expires: its connection
//! is closed (an open transaction rolls back) and its baton answers "stream expired" for
//! [`EXPIRED_KEEP`] before it is forgotten (then "invalid baton"), as in sqld.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// How long a stream may stay unused before it expires (sqld: 10 s).
pub const STREAM_IDLE: Duration = Duration::from_secs(10);
/// How long an expired stream's baton keeps answering "stream expired" (sqld: 300 s).
pub const EXPIRED_KEEP: Duration = Duration::from_secs(300);
/// Open streams (in use or idle) at most, over all databases.
pub const MAX_STREAMS: usize = 512;
/// Open streams at most per database, so one database (one token's sender that never
/// closes its streams) cannot take every stream from the others. [assumed]
pub const MAX_STREAMS_PER_DATABASE: usize = 128;
/// Open streams at most per token, so one token of a database (a query token handed to a
/// script that never closes its streams) cannot take the database's streams from its
/// other tokens. [assumed]
pub const MAX_STREAMS_PER_TOKEN: usize = 64;

/// One stream.
pub struct Stream {
    pub database_id: String,
    /// Who opened it: a fingerprint of the token (never the token).
    pub owner: String,
    /// `None` before the first request opened it, and after `close`.
    pub conn: Option<Connection>,
    /// Set once the stream was closed (by a `close` request or a failure).
    pub closed: bool,
    pub sqls: HashMap<i32, String>,
}

enum Handle {
    Available {
        stream: Box<Stream>,
        secret: u128,
        idle_since: Instant,
    },
    Acquired {
        database_id: String,
        owner: String,
    },
    Expired {
        since: Instant,
    },
}

/// Why a baton was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcquireError {
    Invalid,
    Reused,
    Expired,
    TooMany,
}

/// The registry of streams.
#[derive(Default)]
pub struct Streams {
    map: Mutex<HashMap<u64, Handle>>,
}

fn encode_baton(id: u64, secret: u128) -> String {
    format!("{id:016x}{secret:032x}")
}

fn decode_baton(baton: &str) -> Option<(u64, u128)> {
    if baton.len() != 48 || !baton.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let id = u64::from_str_radix(baton.get(..16)?, 16).ok()?;
    let secret = u128::from_str_radix(baton.get(16..)?, 16).ok()?;
    Some((id, secret))
}

impl Streams {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Handle>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes the stream a baton names (or a new stream when `baton` is `None`) for one
    /// HTTP request. The stream must be handed back with [`Lease::release`].
    pub fn acquire(
        self: &Arc<Self>,
        database_id: &str,
        owner: &str,
        baton: Option<&str>,
    ) -> Result<(Lease, Box<Stream>), AcquireError> {
        let mut map = self.lock();
        let (id, stream) = match baton {
            None => {
                let live = map
                    .values()
                    .filter(|h| !matches!(h, Handle::Expired { .. }))
                    .count();
                let of_database = map
                    .values()
                    .filter(|h| match h {
                        Handle::Available { stream, .. } => stream.database_id == database_id,
                        Handle::Acquired { database_id: d, .. } => d == database_id,
                        Handle::Expired { .. } => false,
                    })
                    .count();
                let of_owner = map
                    .values()
                    .filter(|h| match h {
                        Handle::Available { stream, .. } => stream.owner == owner,
                        Handle::Acquired { owner: o, .. } => o == owner,
                        Handle::Expired { .. } => false,
                    })
                    .count();
                if live >= MAX_STREAMS
                    || of_database >= MAX_STREAMS_PER_DATABASE
                    || of_owner >= MAX_STREAMS_PER_TOKEN
                {
                    return Err(AcquireError::TooMany);
                }
                let mut id = rand::random::<u64>();
                while map.contains_key(&id) {
                    id = rand::random::<u64>();
                }
                let stream = Box::new(Stream {
                    database_id: database_id.to_owned(),
                    owner: owner.to_owned(),
                    conn: None,
                    closed: false,
                    sqls: HashMap::new(),
                });
                (id, stream)
            }
            Some(baton) => {
                let (id, secret) = decode_baton(baton).ok_or(AcquireError::Invalid)?;
                let handle = map.get_mut(&id).ok_or(AcquireError::Invalid)?;
                match handle {
                    Handle::Acquired { .. } => return Err(AcquireError::Reused),
                    Handle::Expired { .. } => return Err(AcquireError::Expired),
                    Handle::Available {
                        stream,
                        secret: expected,
                        ..
                    } => {
                        if stream.database_id != database_id {
                            return Err(AcquireError::Invalid);
                        }
                        if *expected != secret {
                            return Err(AcquireError::Reused);
                        }
                    }
                }
                match std::mem::replace(
                    handle,
                    Handle::Acquired {
                        database_id: database_id.to_owned(),
                        owner: owner.to_owned(),
                    },
                ) {
                    Handle::Available { stream, .. } => (id, stream),
                    // Checked just above, under the same lock.
                    _ => return Err(AcquireError::Invalid),
                }
            }
        };
        map.insert(
            id,
            Handle::Acquired {
                database_id: database_id.to_owned(),
                owner: stream.owner.clone(),
            },
        );
        Ok((
            Lease {
                streams: self.clone(),
                id,
                released: false,
            },
            stream,
        ))
    }

    /// Expires streams idle for too long and forgets old expired ones. Returns the expired
    /// streams: the caller drops them on a blocking thread (closing a connection is I/O).
    pub fn sweep(&self, now: Instant) -> Vec<Stream> {
        let mut map = self.lock();
        let mut expired = Vec::new();
        for handle in map.values_mut() {
            if let Handle::Available { idle_since, .. } = handle {
                if now.duration_since(*idle_since) >= STREAM_IDLE {
                    if let Handle::Available { stream, .. } =
                        std::mem::replace(handle, Handle::Expired { since: now })
                    {
                        expired.push(*stream);
                    }
                }
            }
        }
        map.retain(|_, h| {
            !matches!(h, Handle::Expired { since } if now.duration_since(*since) >= EXPIRED_KEEP)
        });
        expired
    }

    /// Takes every idle stream (at shutdown).
    pub fn drain(&self) -> Vec<Stream> {
        let mut map = self.lock();
        let ids: Vec<u64> = map
            .iter()
            .filter(|(_, h)| matches!(h, Handle::Available { .. }))
            .map(|(id, _)| *id)
            .collect();
        ids.into_iter()
            .filter_map(|id| match map.remove(&id) {
                Some(Handle::Available { stream, .. }) => Some(*stream),
                _ => None,
            })
            .collect()
    }

    /// Streams in use or idle.
    #[cfg(test)]
    pub fn open_count(&self) -> usize {
        self.lock()
            .values()
            .filter(|h| !matches!(h, Handle::Expired { .. }))
            .count()
    }
}

/// The right to hand a stream back. Dropped without [`Lease::release`] (the request
/// failed), the stream is forgotten.
pub struct Lease {
    streams: Arc<Streams>,
    id: u64,
    released: bool,
}

impl Lease {
    /// Hands the stream back after a request: a closed stream is removed (`None`), an open
    /// one becomes available under a fresh baton (returned).
    pub fn release(mut self, stream: Box<Stream>) -> (Option<String>, Option<Box<Stream>>) {
        self.released = true;
        let mut map = self.streams.lock();
        if stream.closed {
            map.remove(&self.id);
            return (None, Some(stream));
        }
        let secret = rand::random::<u128>();
        map.insert(
            self.id,
            Handle::Available {
                stream,
                secret,
                idle_since: Instant::now(),
            },
        );
        (Some(encode_baton(self.id, secret)), None)
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if !self.released {
            self.streams.lock().remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batons_work_once_and_expire() {
        let streams = Arc::new(Streams::default());
        let (lease, stream) = match streams.acquire("db_a", "tok_db_a", None) {
            Ok(x) => x,
            Err(e) => panic!("{e:?}"),
        };
        let (baton, gone) = lease.release(stream);
        assert!(gone.is_none());
        let baton = baton.unwrap_or_default();
        assert_eq!(baton.len(), 48);
        assert_eq!(
            streams.acquire("db_b", "tok_db_b", Some(&baton)).err(),
            Some(AcquireError::Invalid)
        );
        assert_eq!(
            streams.acquire("db_a", "tok_db_a", Some("zz")).err(),
            Some(AcquireError::Invalid)
        );
        let (lease, stream) = match streams.acquire("db_a", "tok_db_a", Some(&baton)) {
            Ok(x) => x,
            Err(e) => panic!("{e:?}"),
        };
        assert_eq!(
            streams.acquire("db_a", "tok_db_a", Some(&baton)).err(),
            Some(AcquireError::Reused),
            "in use"
        );
        let (next, _) = lease.release(stream);
        let next = next.unwrap_or_default();
        assert_ne!(next, baton);
        assert_eq!(
            streams.acquire("db_a", "tok_db_a", Some(&baton)).err(),
            Some(AcquireError::Reused),
            "an old baton"
        );
        assert_eq!(streams.open_count(), 1);
        let expired = streams.sweep(Instant::now() + STREAM_IDLE);
        assert_eq!(expired.len(), 1);
        assert_eq!(
            streams.acquire("db_a", "tok_db_a", Some(&next)).err(),
            Some(AcquireError::Expired)
        );
        assert!(streams
            .sweep(Instant::now() + STREAM_IDLE + EXPIRED_KEEP)
            .is_empty());
        assert_eq!(
            streams.acquire("db_a", "tok_db_a", Some(&next)).err(),
            Some(AcquireError::Invalid)
        );
        // A failed request drops its lease: the stream is gone.
        let (lease, _stream) = match streams.acquire("db_a", "tok_db_a", None) {
            Ok(x) => x,
            Err(e) => panic!("{e:?}"),
        };
        assert_eq!(streams.open_count(), 1);
        drop(lease);
        assert_eq!(streams.open_count(), 0);
    }

    #[test]
    fn one_token_cannot_take_every_stream_of_its_database() {
        let streams = Arc::new(Streams::default());
        let mut held = Vec::new();
        for _ in 0..MAX_STREAMS_PER_TOKEN {
            match streams.acquire("db_a", "query-token", None) {
                Ok(taken) => held.push(taken),
                Err(e) => panic!("under the cap: {e:?}"),
            }
        }
        assert_eq!(
            streams.acquire("db_a", "query-token", None).err(),
            Some(AcquireError::TooMany),
            "the offending token is capped"
        );
        assert!(
            streams.acquire("db_a", "database-token", None).is_ok(),
            "the database's other tokens still get streams"
        );
    }

    #[test]
    fn one_database_cannot_take_every_stream() {
        let streams = Arc::new(Streams::default());
        let mut held = Vec::new();
        for i in 0..128 {
            // Many tokens of one database (each under its own cap).
            match streams.acquire("db_a", &format!("tok_{}", i % 4), None) {
                Ok(taken) => held.push(taken),
                Err(e) => panic!("under the cap: {e:?}"),
            }
        }
        assert_eq!(
            streams.acquire("db_a", "tok_db_a", None).err(),
            Some(AcquireError::TooMany),
            "the offending database is capped"
        );
        assert!(
            streams.acquire("db_b", "tok_db_b", None).is_ok(),
            "others still get streams"
        );
    }
}
