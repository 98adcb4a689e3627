//! Project domains (one zone each, with its SOA serial), their DNS records, and app
//! hostnames (manual or automatic DNS). Every change bumps the zone's serial and the
//! store's DNS generation, which the DNS server watches to reload its zones.

use std::sync::atomic::Ordering;

use rusqlite::{params, Connection, OptionalExtension};

use crate::contract::dns::{self as rules, RecordSpec};
use crate::emulator::core::clock::format_ts;
use crate::emulator::core::secrets::random_hex;

use super::apps::require_live_app;
use super::{App, Store, StoreError};

/// A project domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    pub domain_id: String,
    pub project_id: String,
    pub name: String,
    pub serial: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// One DNS record of a zone (canonical forms, see `crate::contract::dns`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRecord {
    pub record_id: String,
    pub domain_id: String,
    pub name: String,
    pub rtype: String,
    pub value: String,
    pub ttl: i64,
    pub priority: Option<i64>,
    pub weight: Option<i64>,
    pub port: Option<i64>,
    /// `hostname:<hostname>` for the records an automatic-DNS hostname wrote.
    pub managed_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// An app hostname.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hostname {
    pub hostname: String,
    pub app_id: String,
    /// `manual` or `automatic`.
    pub dns_mode: String,
    /// The project domain whose zone holds the records (automatic mode).
    pub domain_id: Option<String>,
    pub token: String,
    pub verified_at: Option<String>,
    pub created_at: String,
}

/// A zone as the DNS server serves it.
#[derive(Debug, Clone)]
pub struct Zone {
    pub domain: Domain,
    pub records: Vec<DnsRecord>,
}

const DOMAIN_COLUMNS: &str = "domain_id, project_id, name, serial, created_at, updated_at";
const RECORD_COLUMNS: &str = "record_id, domain_id, name, type, value, ttl, priority, weight, \
     port, managed_by, created_at, updated_at";
const HOSTNAME_COLUMNS: &str =
    "hostname, app_id, dns_mode, domain_id, token, verified_at, created_at";

fn domain_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Domain> {
    Ok(Domain {
        domain_id: r.get(0)?,
        project_id: r.get(1)?,
        name: r.get(2)?,
        serial: r.get(3)?,
        created_at: r.get(4)?,
        updated_at: r.get(5)?,
    })
}

fn record_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DnsRecord> {
    Ok(DnsRecord {
        record_id: r.get(0)?,
        domain_id: r.get(1)?,
        name: r.get(2)?,
        rtype: r.get(3)?,
        value: r.get(4)?,
        ttl: r.get(5)?,
        priority: r.get(6)?,
        weight: r.get(7)?,
        port: r.get(8)?,
        managed_by: r.get(9)?,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
    })
}

fn hostname_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Hostname> {
    Ok(Hostname {
        hostname: r.get(0)?,
        app_id: r.get(1)?,
        dns_mode: r.get(2)?,
        domain_id: r.get(3)?,
        token: r.get(4)?,
        verified_at: r.get(5)?,
        created_at: r.get(6)?,
    })
}

fn domain_by_id(conn: &Connection, id: &str) -> Result<Option<Domain>, StoreError> {
    let sql = format!("SELECT {DOMAIN_COLUMNS} FROM domains WHERE domain_id = ?1");
    Ok(conn
        .query_row(&sql, params![id], domain_from_row)
        .optional()?)
}

fn require_domain(conn: &Connection, id: &str) -> Result<Domain, StoreError> {
    domain_by_id(conn, id)?.ok_or_else(|| StoreError::NotFound(format!("domain {id} not found")))
}

fn records_of(conn: &Connection, domain_id: &str) -> Result<Vec<DnsRecord>, StoreError> {
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM dns_records WHERE domain_id = ?1 ORDER BY name, type, rowid"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params![domain_id], record_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

fn bump_serial(conn: &Connection, domain_id: &str, ts: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE domains SET serial = serial + 1, updated_at = ?1 WHERE domain_id = ?2",
        params![ts, domain_id],
    )?;
    Ok(())
}

/// Why `spec` cannot join the zone's `existing` records (`skip`: the record it replaces).
pub fn conflict(existing: &[DnsRecord], spec: &RecordSpec, skip: Option<&str>) -> Option<String> {
    let same_name: Vec<&DnsRecord> = existing
        .iter()
        .filter(|r| Some(r.record_id.as_str()) != skip && r.name == spec.name)
        .collect();
    if spec.rtype == "CNAME" {
        if let Some(other) = same_name.first() {
            return Some(format!(
                "a CNAME record cannot sit beside other records: {} already has a {} record ({})",
                spec.name, other.rtype, other.record_id
            ));
        }
    } else if let Some(cname) = same_name.iter().find(|r| r.rtype == "CNAME") {
        return Some(format!(
            "{} has a CNAME record ({}), and a CNAME cannot sit beside other records",
            spec.name, cname.record_id
        ));
    }
    for r in same_name.iter().filter(|r| r.rtype == spec.rtype) {
        if r.value == spec.value
            && r.priority == spec.priority
            && r.weight == spec.weight
            && r.port == spec.port
        {
            return Some(format!(
                "the same {} record for {} already exists ({})",
                spec.rtype, spec.name, r.record_id
            ));
        }
    }
    None
}

fn insert_record(
    conn: &Connection,
    domain_id: &str,
    spec: &RecordSpec,
    managed_by: Option<&str>,
    ts: &str,
) -> Result<DnsRecord, StoreError> {
    let ts = ts.to_owned();
    let record = DnsRecord {
        record_id: format!("rec_{}", random_hex(8)),
        domain_id: domain_id.to_owned(),
        name: spec.name.clone(),
        rtype: spec.rtype.clone(),
        value: spec.value.clone(),
        ttl: spec.ttl,
        priority: spec.priority,
        weight: spec.weight,
        port: spec.port,
        managed_by: managed_by.map(str::to_owned),
        created_at: ts.clone(),
        updated_at: ts,
    };
    conn.execute(
        &format!("INSERT INTO dns_records ({RECORD_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
        params![
            record.record_id,
            record.domain_id,
            record.name,
            record.rtype,
            record.value,
            record.ttl,
            record.priority,
            record.weight,
            record.port,
            record.managed_by,
            record.created_at,
            record.updated_at
        ],
    )?;
    Ok(record)
}

impl Store {
    /// Bumped at every change of a zone (the DNS server reloads when it moves).
    pub fn dns_generation(&self) -> u64 {
        self.dns_generation.load(Ordering::SeqCst)
    }

    pub(super) fn dns_changed(&self) {
        self.dns_generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Onboards `name` (already canonical) in a project: one live domain per name across
    /// every project (409 otherwise).
    pub fn create_domain(&self, project_id: &str, name: &str) -> Result<Domain, StoreError> {
        let conn = self.conn()?;
        let taken: Option<(String, String)> = conn
            .query_row(
                "SELECT domain_id, project_id FROM domains WHERE name = ?1",
                params![name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((id, project)) = taken {
            let whose = if project == project_id {
                format!("this project ({id})")
            } else {
                "another project".to_owned()
            };
            return Err(StoreError::Conflict(format!(
                "domain {name} is already onboarded in {whose}"
            )));
        }
        let ts = format_ts(self.now());
        let domain = Domain {
            domain_id: format!("dom_{}", random_hex(8)),
            project_id: project_id.to_owned(),
            name: name.to_owned(),
            serial: 1,
            created_at: ts.clone(),
            updated_at: ts,
        };
        conn.execute(
            &format!("INSERT INTO domains ({DOMAIN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
            params![
                domain.domain_id,
                domain.project_id,
                domain.name,
                domain.serial,
                domain.created_at,
                domain.updated_at
            ],
        )?;
        drop(conn);
        self.dns_changed();
        Ok(domain)
    }

    /// A project's domains, by name.
    pub fn list_domains(&self, project_id: &str) -> Result<Vec<Domain>, StoreError> {
        let conn = self.conn()?;
        let sql =
            format!("SELECT {DOMAIN_COLUMNS} FROM domains WHERE project_id = ?1 ORDER BY name");
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt
            .query_map(params![project_id], domain_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    pub fn get_domain(&self, domain_id: &str) -> Result<Option<Domain>, StoreError> {
        domain_by_id(&*self.conn()?, domain_id)
    }

    /// Removes a domain, its zone and every record in it; refused (409) while an
    /// automatic-DNS hostname writes into it.
    pub fn delete_domain(&self, domain_id: &str) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let domain = require_domain(&tx, domain_id)?;
        let users: Vec<String> = {
            let mut stmt = tx.prepare(
                "SELECT hostname FROM app_hostnames WHERE domain_id = ?1 ORDER BY hostname",
            )?;
            let rows = stmt
                .query_map(params![domain_id], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            rows
        };
        if !users.is_empty() {
            return Err(StoreError::Conflict(format!(
                "domain {} holds the records of automatic-DNS hostnames {}: remove them first",
                domain.name,
                users.join(", ")
            )));
        }
        tx.execute(
            "DELETE FROM dns_records WHERE domain_id = ?1",
            params![domain_id],
        )?;
        tx.execute(
            "DELETE FROM domains WHERE domain_id = ?1",
            params![domain_id],
        )?;
        tx.commit()?;
        drop(conn);
        self.dns_changed();
        Ok(())
    }

    /// The records of a domain's zone.
    pub fn list_records(&self, domain_id: &str) -> Result<Vec<DnsRecord>, StoreError> {
        let conn = self.conn()?;
        require_domain(&conn, domain_id)?;
        records_of(&conn, domain_id)
    }

    pub fn get_record(
        &self,
        domain_id: &str,
        record_id: &str,
    ) -> Result<Option<DnsRecord>, StoreError> {
        let conn = self.conn()?;
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM dns_records WHERE domain_id = ?1 AND record_id = ?2"
        );
        Ok(conn
            .query_row(&sql, params![domain_id, record_id], record_from_row)
            .optional()?)
    }

    /// Adds a record (canonical) to a zone: 409 when it conflicts with the zone's records.
    pub fn create_record(
        &self,
        domain_id: &str,
        spec: &RecordSpec,
    ) -> Result<DnsRecord, StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        require_domain(&tx, domain_id)?;
        if let Some(why) = conflict(&records_of(&tx, domain_id)?, spec, None) {
            return Err(StoreError::Conflict(why));
        }
        let record = insert_record(&tx, domain_id, spec, None, &format_ts(self.now()))?;
        bump_serial(&tx, domain_id, &format_ts(self.now()))?;
        tx.commit()?;
        drop(conn);
        self.dns_changed();
        Ok(record)
    }

    /// Replaces a record's fields (its id stays); a hostname's record is refused (409).
    pub fn update_record(
        &self,
        domain_id: &str,
        record_id: &str,
        spec: &RecordSpec,
    ) -> Result<DnsRecord, StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        require_domain(&tx, domain_id)?;
        let records = records_of(&tx, domain_id)?;
        let Some(old) = records.iter().find(|r| r.record_id == record_id) else {
            return Err(StoreError::NotFound(format!(
                "record {record_id} not found"
            )));
        };
        if let Some(owner) = &old.managed_by {
            return Err(StoreError::Conflict(format!(
                "record {record_id} belongs to {owner}: remove or change the hostname instead"
            )));
        }
        if let Some(why) = conflict(&records, spec, Some(record_id)) {
            return Err(StoreError::Conflict(why));
        }
        tx.execute(
            "UPDATE dns_records SET name = ?1, type = ?2, value = ?3, ttl = ?4, priority = ?5, \
             weight = ?6, port = ?7, updated_at = ?8 WHERE record_id = ?9",
            params![
                spec.name,
                spec.rtype,
                spec.value,
                spec.ttl,
                spec.priority,
                spec.weight,
                spec.port,
                format_ts(self.now()),
                record_id
            ],
        )?;
        bump_serial(&tx, domain_id, &format_ts(self.now()))?;
        let sql = format!("SELECT {RECORD_COLUMNS} FROM dns_records WHERE record_id = ?1");
        let record = tx.query_row(&sql, params![record_id], record_from_row)?;
        tx.commit()?;
        drop(conn);
        self.dns_changed();
        Ok(record)
    }

    /// Deletes a record; a hostname's record is refused (409).
    pub fn delete_record(&self, domain_id: &str, record_id: &str) -> Result<(), StoreError> {
        let conn = self.conn()?;
        let record = {
            let sql = format!(
                "SELECT {RECORD_COLUMNS} FROM dns_records WHERE domain_id = ?1 AND record_id = ?2"
            );
            conn.query_row(&sql, params![domain_id, record_id], record_from_row)
                .optional()?
                .ok_or_else(|| StoreError::NotFound(format!("record {record_id} not found")))?
        };
        if let Some(owner) = record.managed_by {
            return Err(StoreError::Conflict(format!(
                "record {record_id} belongs to {owner}: remove the hostname instead"
            )));
        }
        conn.execute(
            "DELETE FROM dns_records WHERE record_id = ?1",
            params![record_id],
        )?;
        bump_serial(&conn, domain_id, &format_ts(self.now()))?;
        drop(conn);
        self.dns_changed();
        Ok(())
    }

    /// Every zone with its records (for the DNS server).
    pub fn zones(&self) -> Result<Vec<Zone>, StoreError> {
        let conn = self.conn()?;
        let sql = format!("SELECT {DOMAIN_COLUMNS} FROM domains ORDER BY name");
        let domains = {
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt
                .query_map([], domain_from_row)?
                .collect::<Result<Vec<_>, _>>()?;
            rows
        };
        domains
            .into_iter()
            .map(|domain| {
                let records = records_of(&conn, &domain.domain_id)?;
                Ok(Zone { domain, records })
            })
            .collect()
    }

    /// The project's domain that covers `hostname` (the longest such name).
    pub fn covering_domain(
        &self,
        project_id: &str,
        hostname: &str,
    ) -> Result<Option<Domain>, StoreError> {
        Ok(self
            .list_domains(project_id)?
            .into_iter()
            .filter(|d| covers(&d.name, hostname))
            .max_by_key(|d| d.name.len()))
    }

    /// Attaches `hostname` to a live app. `records` gives, from the new row (its token),
    /// the records automatic mode writes into `domain`'s zone, owned by the hostname, in
    /// the same transaction.
    pub fn create_hostname_with<F>(
        &self,
        app: &App,
        hostname: &str,
        dns_mode: &str,
        domain: Option<&Domain>,
        records: F,
    ) -> Result<Hostname, StoreError>
    where
        F: FnOnce(&Hostname) -> Result<Vec<RecordSpec>, StoreError>,
    {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        require_live_app(&tx, &app.app_id)?;
        let taken: Option<String> = tx
            .query_row(
                "SELECT app_id FROM app_hostnames WHERE hostname = ?1",
                params![hostname],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(other) = taken {
            let whose = if other == app.app_id {
                "this app"
            } else {
                "another app"
            };
            return Err(StoreError::Conflict(format!(
                "hostname {hostname} is already attached to {whose}"
            )));
        }
        let row = Hostname {
            hostname: hostname.to_owned(),
            app_id: app.app_id.clone(),
            dns_mode: dns_mode.to_owned(),
            domain_id: domain.map(|d| d.domain_id.clone()),
            token: random_hex(16),
            verified_at: None,
            created_at: format_ts(self.now()),
        };
        let owner = format!("hostname:{hostname}");
        if let Some(domain) = domain {
            require_domain(&tx, &domain.domain_id)?;
            let mut existing = records_of(&tx, &domain.domain_id)?;
            for spec in records(&row)? {
                if let Some(why) = conflict(&existing, &spec, None) {
                    return Err(StoreError::Conflict(format!(
                        "cannot write the records of {hostname} into {}: {why}",
                        domain.name
                    )));
                }
                existing.push(insert_record(
                    &tx,
                    &domain.domain_id,
                    &spec,
                    Some(&owner),
                    &format_ts(self.now()),
                )?);
            }
            bump_serial(&tx, &domain.domain_id, &format_ts(self.now()))?;
        }
        tx.execute(
            &format!("INSERT INTO app_hostnames ({HOSTNAME_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
            params![
                row.hostname,
                row.app_id,
                row.dns_mode,
                row.domain_id,
                row.token,
                row.verified_at,
                row.created_at
            ],
        )?;
        tx.commit()?;
        drop(conn);
        self.dns_changed();
        Ok(row)
    }

    /// An app's hostnames, by name.
    pub fn list_hostnames(&self, app_id: &str) -> Result<Vec<Hostname>, StoreError> {
        let conn = self.conn()?;
        let sql = format!(
            "SELECT {HOSTNAME_COLUMNS} FROM app_hostnames WHERE app_id = ?1 ORDER BY hostname"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt
            .query_map(params![app_id], hostname_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    pub fn get_hostname(&self, hostname: &str) -> Result<Option<Hostname>, StoreError> {
        let conn = self.conn()?;
        let sql = format!("SELECT {HOSTNAME_COLUMNS} FROM app_hostnames WHERE hostname = ?1");
        Ok(conn
            .query_row(&sql, params![hostname], hostname_from_row)
            .optional()?)
    }

    /// Detaches a hostname and removes the records it wrote.
    pub fn delete_hostname(&self, hostname: &str) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        delete_hostname_rows(&tx, hostname, &format_ts(self.now()))?;
        tx.commit()?;
        drop(conn);
        self.dns_changed();
        Ok(())
    }

    /// Records whether the hostname's records were found (keeps the first verification
    /// time while it stays verified).
    pub fn set_hostname_verified(&self, hostname: &str, verified: bool) -> Result<(), StoreError> {
        let conn = self.conn()?;
        if verified {
            conn.execute(
                "UPDATE app_hostnames SET verified_at = COALESCE(verified_at, ?1) WHERE hostname = ?2",
                params![format_ts(self.now()), hostname],
            )?;
        } else {
            conn.execute(
                "UPDATE app_hostnames SET verified_at = NULL WHERE hostname = ?1",
                params![hostname],
            )?;
        }
        Ok(())
    }

    /// The attached hostname `host` and its live app (for the gateway).
    pub fn hostname_route(&self, host: &str) -> Result<Option<(Hostname, App)>, StoreError> {
        let Some(h) = self.get_hostname(host)? else {
            return Ok(None);
        };
        let app = self.get_app(&h.app_id)?;
        Ok(app.map(|a| (h, a)))
    }
}

/// Detaches a hostname inside a transaction: its row, and its records with a serial bump.
pub(super) fn delete_hostname_rows(
    conn: &Connection,
    hostname: &str,
    ts: &str,
) -> Result<(), StoreError> {
    let domain: Option<Option<String>> = conn
        .query_row(
            "SELECT domain_id FROM app_hostnames WHERE hostname = ?1",
            params![hostname],
            |r| r.get(0),
        )
        .optional()?;
    let Some(domain) = domain else {
        return Err(StoreError::NotFound(format!(
            "hostname {hostname} not found"
        )));
    };
    let owner = format!("hostname:{hostname}");
    let removed = conn.execute(
        "DELETE FROM dns_records WHERE managed_by = ?1",
        params![owner],
    )?;
    if let (Some(domain), true) = (domain, removed > 0) {
        bump_serial(conn, &domain, ts)?;
    }
    conn.execute(
        "DELETE FROM app_hostnames WHERE hostname = ?1",
        params![hostname],
    )?;
    Ok(())
}

/// Whether the zone `domain` covers `hostname` (is it, or a parent of it).
pub fn covers(domain: &str, hostname: &str) -> bool {
    hostname == domain
        || hostname
            .strip_suffix(domain)
            .is_some_and(|p| p.ends_with('.'))
}

/// The canonical spec of one of a hostname's records, relative to `zone`.
pub fn spec_in_zone(
    zone: &str,
    fqdn: &str,
    rtype: &str,
    value: &str,
) -> Result<RecordSpec, StoreError> {
    rules::record(
        zone,
        &format!("{fqdn}."),
        rtype,
        value,
        Some(rules::TTL_DEFAULT),
        None,
        None,
        None,
    )
    .map_err(|(field, message)| StoreError::Validation { field, message })
}
