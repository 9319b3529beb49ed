//! The path of a transaction step: take a connection (from a pool, or directly), run the
//! queries one after another — each a network round trip plus time on a database core — then let
//! the connection go. The databases and pools keep their own state (`database.rs`, `pool.rs`).

use super::job::{JobRef, Owner};
use super::resource::Admission;
use super::world::{schedule_network, Event, World};
use crate::engine::{EventQueue, Nanos};
use crate::model::{ActionKind, ConnectionSource, DatabaseId, Dist, Step, Transaction};

impl<'m> World<'m> {
    /// The transaction the job is running now.
    fn current_transaction(&self, job_ref: JobRef) -> Option<&'m Transaction> {
        match self.step_of(self.jobs.get(job_ref)?) {
            Some(Step::Transaction(tx)) => Some(tx),
            _ => None,
        }
    }

    /// The query the job is running: its cost distribution, its database and its resource group.
    fn query_of(&self, job_ref: JobRef) -> Option<(&'m Dist, DatabaseId, Option<usize>)> {
        let job = self.jobs.get(job_ref)?;
        match job.owner {
            Owner::Injected { action } => match &self.model.actions[action as usize].kind {
                ActionKind::Inject {
                    cost, database, group, ..
                } => Some((cost, *database, *group)),
                _ => None,
            },
            _ => self.current_transaction(job_ref).map(|tx| (&tx.query, tx.database, tx.group)),
        }
    }

    /// Start a transaction step: get a connection, then run the first query.
    pub(super) fn begin_transaction(&mut self, job_ref: JobRef, queue: &mut EventQueue<Event>) {
        let now = queue.now();
        let Some(tx) = self.current_transaction(job_ref) else {
            return;
        };
        let Some(job) = self.jobs.get_mut(job_ref) else {
            return;
        };
        job.queries_left = tx.queries;
        match tx.connection {
            ConnectionSource::Pool(p) => match self.pools.acquire(p, now, job_ref, job.ticket) {
                Admission::Granted => {}
                Admission::Queued => {
                    if let Some(timeout) = self.model.pools[p.0].acquire_timeout_ns {
                        let ticket = job.ticket;
                        queue.schedule_fixed(timeout, Event::AcquireTimeout { job: job_ref, ticket });
                    }
                    return;
                }
                Admission::Rejected => {
                    self.step_failed(job_ref, queue);
                    return;
                }
            },
            ConnectionSource::Direct => {
                if !self.databases.open_direct(tx.database, now) {
                    self.step_failed(job_ref, queue);
                    return;
                }
            }
        }
        self.connection_taken(job_ref, tx, now);
        self.send_query(job_ref, queue);
    }

    /// The job now holds a connection to the transaction's database.
    fn connection_taken(&mut self, job_ref: JobRef, tx: &Transaction, now: Nanos) {
        if let Some(job) = self.jobs.get_mut(job_ref) {
            job.holds_connection = true;
        }
        self.update_connections(tx.database, now);
    }

    /// Record how many connections of database `d` are in use.
    fn update_connections(&mut self, d: DatabaseId, now: Nanos) {
        let pooled = self.pools.in_use_for(d);
        self.databases.connections_in_use(d, pooled, now);
    }

    /// Send the next query: half the round trip to the database (at once over a link that takes
    /// no time).
    fn send_query(&mut self, job_ref: JobRef, queue: &mut EventQueue<Event>) {
        let Some(tx) = self.current_transaction(job_ref) else {
            return;
        };
        let Some(owner) = self.jobs.get(job_ref).map(|j| j.owner) else {
            return;
        };
        let round_trip = self.round_trip(&tx.link, owner);
        let out = round_trip / 2;
        if let Some(wasted) = self.wasted_by(job_ref, queue.now()) {
            wasted.queries += 1;
        }
        if let Some(job) = self.jobs.get_mut(job_ref) {
            job.query_back_ns = round_trip - out;
        }
        if self.hop_at_once(out) {
            self.hop_now(|w| w.on_query_at_database(job_ref, queue));
        } else {
            schedule_network(queue, &tx.link.latency, out, Event::QueryAtDatabase(job_ref));
        }
    }

    /// A query reaches the database: run it on a free core, or wait for one.
    pub(super) fn on_query_at_database(&mut self, job_ref: JobRef, queue: &mut EventQueue<Event>) {
        let now = queue.now();
        let Some((query, d, group)) = self.query_of(job_ref) else {
            return;
        };
        let Some(job) = self.jobs.get_mut(job_ref) else {
            return;
        };
        job.mark_ns = now;
        if self.databases.query_arrives(d, group, now, job_ref, job.ticket) {
            let cost = self.databases.query_cost(d, query);
            queue.schedule_in(cost, Event::QueryDone(job_ref));
        }
    }

    /// A core finished the query: hand the core to the next query and send the result back (at
    /// once over a link that takes no time).
    pub(super) fn on_query_done(&mut self, job_ref: JobRef, queue: &mut EventQueue<Event>) {
        let now = queue.now();
        let Some((_, d, group)) = self.query_of(job_ref) else {
            return;
        };
        let Some(job) = self.jobs.get(job_ref) else {
            return;
        };
        let (sent, back, owner) = (job.mark_ns, job.query_back_ns, job.owner);
        let jobs = &self.jobs;
        let next = self
            .databases
            .query_done(d, group, sent, now, |w| World::waiter_is_live(jobs, w));
        if let Some(next) = next {
            if let Some((next_query, ..)) = self.query_of(next.job) {
                if let Some(granted) = self.jobs.get_mut(next.job) {
                    granted.ticket = granted.ticket.wrapping_add(1);
                }
                let cost = self.databases.query_cost(d, next_query);
                queue.schedule_in(cost, Event::QueryDone(next.job));
            }
        }
        match (owner, self.current_transaction(job_ref)) {
            (Owner::Endpoint { .. }, Some(_)) if self.hop_at_once(back) => {
                self.hop_now(|w| w.on_query_back(job_ref, queue));
            }
            (Owner::Endpoint { .. }, Some(tx)) => schedule_network(queue, &tx.link.latency, back, Event::QueryBack(job_ref)),
            // Injected work answers no one: it is done.
            _ => {
                self.retire(job_ref);
            }
        }
    }

    /// The result is back at the service: next query, or end of the transaction.
    pub(super) fn on_query_back(&mut self, job_ref: JobRef, queue: &mut EventQueue<Event>) {
        let Some(job) = self.jobs.get_mut(job_ref) else {
            return;
        };
        job.queries_left = job.queries_left.saturating_sub(1);
        let more = job.queries_left > 0;
        if more && self.stops_for_nobody(job_ref) {
            // The caller left: the rest of the transaction is not run.
            self.release_connection(job_ref, queue);
            self.stop_for_nobody(job_ref, queue);
            return;
        }
        if more && !self.was_reset(job_ref) {
            self.send_query(job_ref, queue);
            return;
        }
        if let Some(tx) = self.current_transaction(job_ref).filter(|tx| tx.writes > 0.0) {
            // Written rows stay (nobody cleans them up): later queries cost more.
            self.databases.rows_written(tx.database, tx.writes);
        }
        self.release_connection(job_ref, queue);
        self.next_step(job_ref, queue);
    }

    /// Give the connection back: to the next transaction waiting in the pool, or to the database.
    fn release_connection(&mut self, job_ref: JobRef, queue: &mut EventQueue<Event>) {
        let now = queue.now();
        let Some(tx) = self.current_transaction(job_ref) else {
            return;
        };
        let Some(job) = self.jobs.get_mut(job_ref) else {
            return;
        };
        if !job.holds_connection {
            return;
        }
        job.holds_connection = false;
        match tx.connection {
            ConnectionSource::Pool(p) => {
                let jobs = &self.jobs;
                let next = self.pools.release(p, now, |w| World::waiter_is_live(jobs, w));
                if let Some(next) = next {
                    if let Some(granted) = self.jobs.get_mut(next.job) {
                        granted.ticket = granted.ticket.wrapping_add(1);
                    }
                    if let Some(next_tx) = self.current_transaction(next.job) {
                        self.connection_taken(next.job, next_tx, now);
                        self.send_query(next.job, queue);
                    }
                }
            }
            ConnectionSource::Direct => self.databases.close_direct(tx.database),
        }
        self.update_connections(tx.database, now);
    }

    /// A transaction gave up waiting for a pooled connection: the job fails.
    pub(super) fn on_acquire_timeout(&mut self, job_ref: JobRef, ticket: u32, queue: &mut EventQueue<Event>) {
        let now = queue.now();
        let Some(job) = self.jobs.get_mut(job_ref) else {
            return;
        };
        if job.ticket != ticket || job.holds_connection {
            return;
        }
        job.ticket = job.ticket.wrapping_add(1);
        let Some(tx) = self.current_transaction(job_ref) else {
            return;
        };
        if let ConnectionSource::Pool(p) = tx.connection {
            let jobs = &self.jobs;
            self.pools.acquire_timed_out(p, now, |w| World::waiter_is_live(jobs, w));
        }
        self.step_failed(job_ref, queue);
    }
}
