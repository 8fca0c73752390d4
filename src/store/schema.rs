//! The schema, as an ordered list of migrations. Migration N moves a database from
//! `user_version` N-1 to N; a published migration never changes.

/// One step of the schema, with what it adds in words a user upgrading reads.
pub struct Migration {
    pub what: &'static str,
    pub sql: &'static str,
}

pub const MIGRATIONS: &[Migration] = &[
    // 1: the seed's dashboard table, and the richer tables beside it.
    Migration {
        what: "executions, their step attempts, metrics, events, dead letters and breakers",
        sql: r#"
    -- Exactly the seed's columns, so its dashboards keep working. `workflow_id` is the
    -- execution's UUID, as in the seed; one row per execution, updated as it goes.
    CREATE TABLE workflow_executions (
        id INTEGER PRIMARY KEY,
        workflow_id TEXT,
        trigger_id TEXT,
        agents_involved TEXT,
        execution_status TEXT,
        result JSON,
        timestamp DATETIME
    );
    CREATE UNIQUE INDEX workflow_executions_by_uuid ON workflow_executions(workflow_id);

    -- The exact source of every workflow version that ran, kept once.
    CREATE TABLE workflow_versions (
        workflow TEXT NOT NULL,
        version TEXT,
        source_blob TEXT NOT NULL,      -- git blob id of the declaring file
        source_path TEXT NOT NULL,
        source TEXT NOT NULL,
        first_run_at TEXT NOT NULL,
        PRIMARY KEY (workflow, source_blob)
    );

    CREATE TABLE executions (
        id TEXT PRIMARY KEY,            -- UUID, = workflow_executions.workflow_id
        workflow TEXT NOT NULL,
        version TEXT,
        source_blob TEXT NOT NULL,
        root_path TEXT NOT NULL,        -- the .wf file that was run, for resume
        trigger TEXT,
        parent_id TEXT REFERENCES executions(id),
        parent_step TEXT,
        input JSON NOT NULL,
        status TEXT NOT NULL,           -- running | completed | failed
        result JSON,
        error JSON,
        started_at TEXT NOT NULL,
        finished_at TEXT
    );
    CREATE INDEX executions_by_workflow ON executions(workflow, started_at);
    CREATE INDEX executions_by_parent ON executions(parent_id);

    -- One row per attempt of every step: agent calls, sub-workflow calls, waits.
    CREATE TABLE step_attempts (
        id INTEGER PRIMARY KEY,
        execution_id TEXT NOT NULL REFERENCES executions(id),
        step TEXT NOT NULL,             -- path of the step, e.g. `scored[2].s`
        agent TEXT,
        attempt INTEGER NOT NULL,
        status TEXT NOT NULL,           -- running | completed | failed | timeout | invalid_output | …
        input JSON,
        output JSON,
        error TEXT,
        stderr_tail TEXT,
        child_execution_id TEXT,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        duration_ms REAL
    );
    CREATE INDEX step_attempts_by_execution ON step_attempts(execution_id, step, attempt);
    CREATE INDEX step_attempts_by_agent ON step_attempts(agent, started_at);

    CREATE TABLE metrics (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        value REAL NOT NULL,
        execution_id TEXT REFERENCES executions(id),
        recorded_at TEXT NOT NULL
    );
    CREATE INDEX metrics_by_name ON metrics(name, recorded_at);

    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        payload JSON NOT NULL,
        execution_id TEXT REFERENCES executions(id),
        emitted_at TEXT NOT NULL
    );

    CREATE TABLE dead_letters (
        id INTEGER PRIMARY KEY,
        execution_id TEXT NOT NULL REFERENCES executions(id),
        workflow TEXT NOT NULL,
        input JSON NOT NULL,
        error JSON NOT NULL,
        created_at TEXT NOT NULL,
        replayed_by TEXT
    );

    CREATE TABLE breaker_state (
        agent TEXT PRIMARY KEY,
        state TEXT NOT NULL,            -- closed | open | half_open
        failures JSON NOT NULL,         -- timestamps of recent consecutive failures
        opened_at TEXT,
        updated_at TEXT NOT NULL
    );
    "#,
    },
    // 2: durability — who runs an execution, cancellation, replays, retry delays,
    // and events that are emitted at most once per step.
    Migration {
        what: "owners, cancel requests, replays and retry delays of executions; events emitted once per step",
        sql: r#"
    ALTER TABLE executions ADD COLUMN owner_pid INTEGER;
    ALTER TABLE executions ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE executions ADD COLUMN replay_of INTEGER REFERENCES dead_letters(id);
    CREATE INDEX executions_by_status ON executions(status);
    ALTER TABLE step_attempts ADD COLUMN delay_ms REAL;
    ALTER TABLE events ADD COLUMN step TEXT;
    CREATE UNIQUE INDEX events_once_per_step ON events(execution_id, step);
    "#,
    },
    // 3: triggers that fire by themselves. A fire is unique per (trigger,
    // occurrence, workflow) and is written with the execution it starts, so an
    // event, a cron slot or a metric crossing starts each workflow exactly once.
    Migration {
        what: "trigger state, so a cron slot, an event or a metric crossing starts each workflow once",
        sql: r#"
    CREATE TABLE trigger_fires (
        trigger TEXT NOT NULL,
        occurrence TEXT NOT NULL,       -- event:<id> | slot:<time> | metric:<period>:<n>
        workflow TEXT NOT NULL,
        execution_id TEXT NOT NULL REFERENCES executions(id),
        fired_at TEXT NOT NULL,
        PRIMARY KEY (trigger, occurrence, workflow)
    );
    CREATE TABLE cron_state (
        trigger TEXT PRIMARY KEY,
        last_slot TEXT NOT NULL         -- the latest slot handled (fired or skipped)
    );
    CREATE TABLE metric_trigger_state (
        trigger TEXT NOT NULL,
        period TEXT NOT NULL,           -- '' for a metric without a period
        above INTEGER NOT NULL,         -- whether the condition held at the last look
        crossings INTEGER NOT NULL,
        PRIMARY KEY (trigger, period)
    );
    ALTER TABLE events ADD COLUMN dispatched_at TEXT;
    "#,
    },
    // 4: one index less on the per-step write path; per-agent queries scan.
    Migration {
        what: "one index less on the per-step write path",
        sql: r#"
    DROP INDEX step_attempts_by_agent;
    "#,
    },
    // 5: attempts clustered by execution, in one B-tree: each step's write touches
    // one tree instead of a table and an index, and an execution's attempts are
    // read by key prefix. `id` counts attempts within an execution.
    Migration {
        what: "step attempts stored together by execution",
        sql: r#"
    CREATE TABLE step_attempts_clustered (
        execution_id TEXT NOT NULL REFERENCES executions(id),
        id INTEGER NOT NULL,
        step TEXT NOT NULL,
        agent TEXT,
        attempt INTEGER NOT NULL,
        status TEXT NOT NULL,
        input JSON,
        output JSON,
        error TEXT,
        stderr_tail TEXT,
        child_execution_id TEXT,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        duration_ms REAL,
        delay_ms REAL,
        PRIMARY KEY (execution_id, id)
    ) WITHOUT ROWID;
    INSERT INTO step_attempts_clustered
      SELECT execution_id, id, step, agent, attempt, status, input, output, error, stderr_tail,
             child_execution_id, started_at, finished_at, duration_ms, delay_ms
      FROM step_attempts;
    DROP TABLE step_attempts;
    ALTER TABLE step_attempts_clustered RENAME TO step_attempts;
    "#,
    },
    // 6: what a language model's call used, as its API reported it, and what
    // that cost when the agent declares prices.
    Migration {
        what: "tokens and cost of language-model calls",
        sql: r#"
    ALTER TABLE step_attempts ADD COLUMN tokens_in INTEGER;
    ALTER TABLE step_attempts ADD COLUMN tokens_out INTEGER;
    ALTER TABLE step_attempts ADD COLUMN cost_usd REAL;
    "#,
    },
    // 7: alert episodes. One open episode per alert at most (the partial unique
    // index): whichever server sees the condition first opens it and notifies;
    // the others find it open and do nothing.
    Migration {
        what: "alert episodes",
        sql: r#"
    CREATE TABLE alert_episodes (
        id INTEGER PRIMARY KEY,
        alert TEXT NOT NULL,
        condition TEXT NOT NULL,
        value REAL,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        delivery TEXT
    );
    CREATE UNIQUE INDEX alert_episodes_open ON alert_episodes (alert) WHERE ended_at IS NULL;
    CREATE INDEX alert_episodes_by_alert ON alert_episodes (alert, id);
    -- A signal reads the executions of one workflow that ended within its window.
    CREATE INDEX executions_by_workflow_end ON executions (workflow, finished_at);
    "#,
    },
    // 8: workers. Every process that runs executions is a worker that renews a
    // lease while it lives; an execution's owner is a worker, so a worker on
    // another machine tells a dead owner (its lease ran out) from a live one.
    Migration {
        what: "workers with leases, and each execution's owning worker",
        sql: r#"
    CREATE TABLE workers (
        id TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        kind TEXT NOT NULL,             -- run | serve
        started_at TEXT NOT NULL,
        heartbeat_at TEXT NOT NULL,
        lease_until TEXT NOT NULL,
        running INTEGER NOT NULL
    );
    ALTER TABLE executions ADD COLUMN owner TEXT;
    "#,
    },
    // 9: events are claimed by one worker at a time (for a lease), so workers
    // sharing a store dispatch different events instead of all racing for each.
    Migration {
        what: "events claimed by one worker at a time",
        sql: r#"
    ALTER TABLE events ADD COLUMN claimed_by TEXT;
    ALTER TABLE events ADD COLUMN claimed_until TEXT;
    CREATE INDEX events_undispatched ON events (id) WHERE dispatched_at IS NULL;
    "#,
    },
    // 10: an agent's `capacity` across every worker sharing the store: a call
    // holds one of its numbered slots; a dead worker's slots are free again.
    Migration {
        what: "agent capacity shared by every worker",
        sql: r#"
    CREATE TABLE capacity_slots (
        agent TEXT NOT NULL,
        slot INTEGER NOT NULL,
        worker TEXT NOT NULL,
        taken_at TEXT NOT NULL,
        PRIMARY KEY (agent, slot)
    );
    "#,
    },
    // 11: `await` steps. A wait row is written when an execution reaches one and
    // ends once: whichever of an event, a direct decision and the deadline
    // updates it first (`outcome IS NULL`) decides it; an event decides at most
    // one step of an execution. Payloads that did not fit are kept, once each.
    Migration {
        what: "await steps: what each waits for, and who or what decided it",
        sql: r#"
    CREATE TABLE waits (
        execution_id TEXT NOT NULL REFERENCES executions(id),
        step TEXT NOT NULL,
        pattern TEXT NOT NULL,
        shape TEXT NOT NULL,            -- the payload's type as written
        condition TEXT,                 -- `where`, as written
        since TEXT NOT NULL,
        until TEXT NOT NULL,
        outcome TEXT,                   -- resolved | timed_out; NULL while waiting
        payload JSON,
        source TEXT,                    -- event | cli | api | dashboard | deadline
        os_user TEXT,                   -- who ran `wfc decide`
        decided_by TEXT,                -- the name the person gave, as given
        event_id INTEGER,
        decided_at TEXT,
        PRIMARY KEY (execution_id, step)
    );
    CREATE UNIQUE INDEX waits_one_step_per_event ON waits (execution_id, event_id);
    CREATE INDEX waits_open ON waits (until) WHERE outcome IS NULL;
    CREATE TABLE refused_deliveries (
        execution_id TEXT NOT NULL,
        step TEXT NOT NULL,
        event_id INTEGER NOT NULL,
        reason TEXT NOT NULL,
        refused_at TEXT NOT NULL,
        PRIMARY KEY (execution_id, step, event_id)
    );
    "#,
    },
    // 12: the template a workflow was made from, and the blob of the file that
    // declares it (a library's, when it is imported).
    Migration {
        what: "the template each execution's workflow was made from",
        sql: r#"
    ALTER TABLE executions ADD COLUMN template TEXT;
    ALTER TABLE executions ADD COLUMN template_blob TEXT;
    "#,
    },
    // 13: the git revision a template's file was pinned at (`import … at`),
    // as written and the commit it named, and the text of each template file
    // that ran, kept once by blob: a resume runs the template body it started
    // with even after its file changed.
    Migration {
        what: "the git revision and text of each execution's template",
        sql: r#"
    ALTER TABLE executions ADD COLUMN template_rev TEXT;
    ALTER TABLE executions ADD COLUMN template_commit TEXT;
    CREATE TABLE template_sources (
        blob TEXT PRIMARY KEY,          -- git blob id of the declaring file
        path TEXT NOT NULL,
        source TEXT NOT NULL,
        first_run_at TEXT NOT NULL
    );
    "#,
    },
    // 14: agent assignment, shared by every worker: an agent paused (skill
    // ''), or excluded from a skill's pool, while its row is there; and every
    // change, with who made it and when.
    Migration {
        what: "agents paused or excluded from skills, and who changed that when",
        sql: r#"
    CREATE TABLE agent_assignments (
        agent TEXT NOT NULL,
        skill TEXT NOT NULL,
        by_whom TEXT NOT NULL,
        since TEXT NOT NULL,
        PRIMARY KEY (agent, skill)
    );
    CREATE TABLE assignment_changes (
        id INTEGER PRIMARY KEY,
        agent TEXT NOT NULL,
        change TEXT NOT NULL,
        skill TEXT,
        by_whom TEXT NOT NULL,
        at TEXT NOT NULL
    );
    "#,
    },
    // 15: history read by time (the newest executions, statistics over a
    // window, what retention removes) through an index, not a pass over every
    // row: a year's store holds millions.
    Migration {
        what: "indexes for reading executions by when they started and finished",
        sql: r#"
    CREATE INDEX executions_by_start ON executions (started_at);
    CREATE INDEX executions_by_end ON executions (finished_at);
    "#,
    },
];
