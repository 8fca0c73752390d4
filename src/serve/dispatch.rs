//! The dispatcher: every tick it fires what is due — new events, cron slots, metric
//! crossings — and, with `--watch`, reloads changed files. Each fire is committed
//! with the execution it starts before the next tick, so a restart neither loses
//! nor repeats one.

use super::{load, stamps, State, TICK};
use crate::ast::MissedSlots;
use crate::program::{self, MetricTrigger, Trigger, TriggerKind};
use crate::runtime::{Engine, Origin, RunError};
use crate::store::{self, StartedBy, Store, StoreError};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::sync::watch;

/// Executions of dead workers are looked for every this many ticks (a second).
const TAKEOVER_TICKS: u64 = 5;

/// Alerts are evaluated every this many ticks.
const ALERT_TICKS: u64 = (super::alerts::EVERY.as_millis() / TICK.as_millis()) as u64;

pub async fn run(state: Arc<State>, watch_files: bool, mut stop: watch::Receiver<bool>) {
    let mut store = match Store::open(&state.db) {
        Ok(store) => store,
        Err(error) => {
            tracing::error!(%error, "the dispatcher cannot open the database; no trigger will fire");
            return;
        }
    };
    store.set_clock(state.clock.clone());
    // The first look evaluates every metric trigger; later looks only those whose
    // metric got new samples.
    let mut metric_cursor: Option<i64> = None;
    let mut ticks: u64 = 0;
    let mut told = std::collections::HashSet::new();
    // Ticks keep their pace however often wake-ups come in between.
    let mut next_tick = state.clock.now() + TICK;
    let mut next_slot: Option<DateTime<Utc>> = None;
    loop {
        // A wake-up (new work announced) and a cron slot coming due look at
        // once; only the ticks of the clock count towards the periodic work below.
        let until = next_slot.map_or(next_tick, |slot| slot.min(next_tick));
        tokio::select! {
            _ = stop.changed() => return,
            () = state.clock.sleep_until(until) => {}
            // Work another process announced may be what a waiting step waits for.
            () = state.wake.notified() => state.engines().iter().for_each(|e| e.announce()),
        }
        if *stop.borrow() {
            return;
        }
        let ticked = state.clock.now() >= next_tick;
        if ticked {
            next_tick = state.clock.now() + TICK;
        }
        // While the store does not answer, nothing below could either: one look
        // a tick, said once (its connection is replaced when it comes back).
        if !state.reachability.observe(&store.ping()) {
            continue;
        }
        if !state.role.works() {
            continue;
        }
        if ticked && ticks % TAKEOVER_TICKS == 0 {
            // Executions whose worker died (here or on another machine) resume here.
            if let Err(error) = super::resume_interrupted(&state, &mut told) {
                tracing::error!(%error, "looking for executions of dead workers");
            }
            super::resume_stranded(&state);
            let long_ago = crate::clock::Clock::system().now() - chrono::Duration::hours(1);
            if let Err(error) = store.prune_workers(long_ago) {
                tracing::error!(%error, "forgetting long-dead workers");
            }
        }
        let engines = state.engines();
        let now = state.clock.now();
        if let Err(error) = queued(&store, &engines) {
            tracing::error!(%error, "starting queued executions");
        }
        if let Err(error) = events(&store, &engines) {
            tracing::error!(%error, "dispatching events");
        }
        match cron(&store, &engines, now) {
            Ok(next) => next_slot = next,
            Err(error) => tracing::error!(%error, "firing cron triggers"),
        }
        match metrics(&store, &engines, now, metric_cursor) {
            Ok(cursor) => metric_cursor = Some(cursor),
            Err(error) => tracing::error!(%error, "evaluating metric triggers"),
        }
        if !ticked {
            continue;
        }
        ticks += 1;
        if ticks % ALERT_TICKS == 0 {
            match super::alerts::pass(&engines, &mut store, now) {
                Ok(calls) => {
                    for call in calls {
                        tokio::spawn(super::alerts::deliver(call, state.db.clone()));
                    }
                }
                Err(error) => tracing::error!(%error, "evaluating alerts"),
            }
        }
        if watch_files && ticks % 3 == 0 {
            reload(&state);
        }
    }
}

/// Every (engine, trigger name, trigger) the served programs declare.
fn triggers(engines: &[Arc<Engine>]) -> Vec<(&Arc<Engine>, &Trigger)> {
    engines
        .iter()
        .flat_map(|engine| engine.program().triggers().iter().map(move |t| (engine, t)))
        .collect()
}

/// Starts every workflow `trigger` starts, once for this occurrence.
fn fire(
    engine: &Arc<Engine>,
    trigger: &Trigger,
    occurrence: &str,
    input: &Value,
) -> Result<(), StoreError> {
    let program = engine.program();
    let trigger_name = trigger.name.as_str();
    for id in &trigger.workflows {
        let workflow = &program.workflow(*id).name;
        let trigger = trigger_name;
        let origin = Origin {
            trigger: Some(StartedBy::Trigger(trigger)),
            fire: Some((trigger, occurrence)),
            ..Origin::default()
        };
        let id = uuid::Uuid::now_v7().to_string();
        match engine.begin(id.clone(), workflow, input.clone(), origin) {
            Ok(begun) => {
                tracing::info!(%trigger, %occurrence, %workflow, execution = %begun.id, "started");
                run_begun(engine, begun);
            }
            Err(RunError::AlreadyFired { .. }) => {}
            // The occurrence stays owed: the caller does not mark it handled, so
            // it fires again (the store refuses a second start of a workflow it
            // started). The start may have committed before the connection
            // broke: then this process resumes it once the store answers.
            Err(RunError::Store(error)) => {
                engine.strand(&id);
                return Err(error);
            }
            Err(error) => tracing::warn!(%trigger, %occurrence, %workflow, %error, "not started"),
        }
    }
    Ok(())
}

/// How many queued executions of one file a worker looks at per look: a
/// batch, so that workers woken together share a burst.
const QUEUED_PER_LOOK: usize = 16;

/// Executions queued by a server that takes no work run here, when this worker
/// serves the version of the file they were queued with (one claim wins).
fn queued(store: &Store, engines: &[Arc<Engine>]) -> Result<(), StoreError> {
    for engine in engines {
        for execution in store.queued_executions(engine.root_path(), QUEUED_PER_LOOK)? {
            if !crate::resume::runs_version_of(engine, &execution) {
                continue;
            }
            let engine = engine.clone();
            tokio::spawn(async move {
                match engine.run_queued(&execution).await {
                    Ok(Some(done)) => {
                        tracing::info!(execution = %done.id, workflow = %done.workflow,
                        status = %done.outcome.status(), "execution ended")
                    }
                    Ok(None) => {}
                    Err(error) => {
                        tracing::error!(execution = %execution.id, %error, "cannot start")
                    }
                }
            });
        }
    }
    Ok(())
}

/// New events start the workflows whose trigger pattern matches their name.
fn events(store: &Store, engines: &[Arc<Engine>]) -> Result<(), StoreError> {
    let me = crate::runtime::worker::me();
    let now = crate::clock::Clock::system().now();
    let until = now + chrono::Duration::from_std(me.lease()).unwrap_or(chrono::Duration::MAX);
    let claimed = store.claim_events(&me.id, now, until, 100)?;
    if claimed.is_empty() {
        return Ok(());
    }
    let now = crate::clock::Clock::system().now();
    for event in &claimed {
        if let Some(recorded) = crate::store::parse_timestamp(&event.emitted_at) {
            let lag = (now - recorded).num_milliseconds();
            super::prometheus::INSTRUMENTS.event_dispatched(lag as f64 / 1000.0);
        }
    }
    // The batch's starts, one commit per served file; then the batch is marked
    // handled in one statement. A failure leaves every event of it owed: the
    // fire rows keep a second look from starting anything twice.
    let occurrences: Vec<String> = claimed.iter().map(|e| format!("event:{}", e.id)).collect();
    for engine in engines {
        let mut starts = Vec::new();
        for trigger in engine.program().triggers() {
            let TriggerKind::Event { pattern } = &trigger.kind else {
                continue;
            };
            for (event, occurrence) in claimed.iter().zip(&occurrences) {
                if program::matches(pattern, &event.name) {
                    starts.extend(fired(engine, trigger, occurrence, &event.payload));
                }
            }
        }
        start_all(engine, starts)?;
    }
    let ids: Vec<i64> = claimed.iter().map(|e| e.id).collect();
    store.mark_all_dispatched(&ids)
}

/// What an occurrence of `trigger` starts: each of its workflows, with `input`.
fn fired<'a>(
    engine: &'a Engine,
    trigger: &'a Trigger,
    occurrence: &'a str,
    input: &Value,
) -> Vec<(String, &'a str, Value, Origin<'a>)> {
    let program = engine.program();
    trigger
        .workflows
        .iter()
        .map(|id| {
            let origin = Origin {
                trigger: Some(StartedBy::Trigger(&trigger.name)),
                fire: Some((&trigger.name, occurrence)),
                ..Origin::default()
            };
            let workflow = program.workflow(*id).name.as_str();
            (
                uuid::Uuid::now_v7().to_string(),
                workflow,
                input.clone(),
                origin,
            )
        })
        .collect()
}

/// Runs a started execution on its own task, logging how it ended.
fn run_begun(engine: &Arc<Engine>, begun: crate::runtime::Begun) {
    let engine = engine.clone();
    tokio::spawn(async move {
        match engine.proceed(begun).await {
            Ok(done) => tracing::info!(execution = %done.id, workflow = %done.workflow,
                status = %done.outcome.status(), "execution ended"),
            Err(error) => tracing::error!(%error, "execution stopped: database error"),
        }
    });
}

/// Starts `starts` in one commit and runs each one started.
fn start_all(
    engine: &Arc<Engine>,
    starts: Vec<(String, &str, Value, Origin<'_>)>,
) -> Result<(), StoreError> {
    if starts.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = starts.iter().map(|(id, ..)| id.clone()).collect();
    let answers = match engine.begin_all(starts) {
        Ok(answers) => answers,
        Err(error) => {
            // The starts may have committed before the connection broke: then
            // this process resumes them once the store answers.
            for id in &ids {
                engine.strand(id);
            }
            return Err(error);
        }
    };
    for answer in answers {
        match answer {
            Ok(begun) => {
                tracing::info!(workflow = %begun.workflow, execution = %begun.id, "started");
                run_begun(engine, begun);
            }
            Err(RunError::AlreadyFired { .. }) => {}
            Err(error) => tracing::warn!(%error, "not started"),
        }
    }
    Ok(())
}

/// Due cron slots fire; slots missed while no server ran follow the trigger's
/// `missed` policy (run once to catch up by default), and are logged either way.
/// Returns the first slot still to come, to look again then.
fn cron(
    store: &Store,
    engines: &[Arc<Engine>],
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let mut next_slot: Option<DateTime<Utc>> = None;
    for (engine, trigger) in triggers(engines) {
        let TriggerKind::Cron {
            schedule, missed, ..
        } = &trigger.kind
        else {
            continue;
        };
        if let Some(next) = schedule.next_after(now) {
            next_slot = Some(next_slot.map_or(next, |earliest| earliest.min(next)));
        }
        let name = &trigger.name;
        let Some(last) = store
            .cron_last_slot(name)?
            .as_deref()
            .and_then(store::parse_timestamp)
        else {
            // First start: slots before it were never owed.
            store.set_cron_last_slot(name, &store::timestamp(now))?;
            continue;
        };
        let due = schedule.due(last, now);
        let Some(latest) = due.latest else {
            continue;
        };
        let slot = store::timestamp(latest);
        let policy = *missed;
        let missed = due.slots - usize::from(due.on_time);
        if missed > 0 {
            tracing::warn!(trigger = %name, missed, ?policy, "cron slots were missed while no server ran");
        }
        if due.on_time || policy == MissedSlots::RunOnce {
            let input = json!({ "trigger": name, "slot": slot });
            fire(engine, trigger, &format!("slot:{slot}"), &input)?;
        }
        store.set_cron_last_slot(name, &slot)?;
    }
    Ok(next_slot)
}

/// How many new samples one tick evaluates; more wait for the next tick.
const SAMPLES_PER_TICK: usize = 10_000;

/// Metric triggers fire when their condition becomes true (an edge), once per
/// crossing, and per period for a periodic metric. Every sample recorded since the
/// last look is evaluated in the order it was recorded, whichever process recorded
/// it, so two crossings between ticks are two fires. The first look (no cursor)
/// evaluates each trigger as things stand. Returns the new cursor.
fn metrics(
    store: &Store,
    engines: &[Arc<Engine>],
    now: DateTime<Utc>,
    cursor: Option<i64>,
) -> Result<i64, StoreError> {
    let watched: Vec<_> = triggers(engines)
        .into_iter()
        .filter_map(|(engine, trigger)| match &trigger.kind {
            TriggerKind::Metric(metric) => Some(Watched {
                engine,
                trigger,
                metric,
            }),
            _ => None,
        })
        .collect();
    let Some(cursor) = cursor else {
        // The cursor is taken before the look, so a sample recorded during it is
        // evaluated again next tick rather than never (twice is harmless: a
        // crossing is an edge of the stored state).
        let next = store.last_metric_id()?;
        for watched in &watched {
            watched.evaluate(store, now, None)?;
        }
        return Ok(next);
    };
    let samples = store.metrics_after(cursor, SAMPLES_PER_TICK)?;
    for sample in &samples {
        let at = store::parse_timestamp(&sample.recorded_at).unwrap_or(now);
        for watched in watched
            .iter()
            .filter(|w| w.metric.query.series == sample.name)
        {
            watched.evaluate(store, at, Some(sample.id))?;
        }
    }
    Ok(samples.last().map_or(cursor, |s| s.id))
}

/// A metric trigger of a served program.
struct Watched<'a> {
    engine: &'a Arc<Engine>,
    trigger: &'a Trigger,
    metric: &'a MetricTrigger,
}

impl Watched<'_> {
    /// Evaluates the threshold as the metric stood at sample `upto` (all samples
    /// without one), in the period containing `at`, and fires on a rising edge.
    fn evaluate(
        &self,
        store: &Store,
        at: DateTime<Utc>,
        upto: Option<i64>,
    ) -> Result<(), StoreError> {
        let (trigger, metric) = (self.trigger, self.metric);
        let (name, query) = (&trigger.name, &metric.query);
        let (value, period) = store.metric_value(query, at, metric.timezone, upto)?;
        let holds = value.is_some_and(|v| metric.op.holds(v, metric.target));
        let (above, crossings) = store.metric_trigger_state(name, &period)?;
        if holds && !above {
            let crossing = crossings + 1;
            tracing::info!(trigger = %name, metric = %query.series,
                value = %crate::text::maybe_number(value), %period, "threshold crossed");
            let input = json!({ "trigger": name, "metric": query.series, "value": value, "period": period });
            // The fire is committed before the state, so a crash in between refires
            // the same crossing number, which the store refuses as a duplicate.
            fire(
                self.engine,
                trigger,
                &format!("metric:{period}:{crossing}"),
                &input,
            )?;
            store.set_metric_trigger_state(name, &period, true, crossing)?;
        } else if !holds && above {
            store.set_metric_trigger_state(name, &period, false, crossings)?;
        }
        Ok(())
    }
}

/// Re-checks files that changed; applies a file only when it checks clean.
pub(super) fn reload(state: &State) {
    let mut served = state.served.write().unwrap_or_else(|e| e.into_inner());
    for entry in served.iter_mut() {
        let now = stamps(&entry.engine.source_paths());
        if now == entry.stamps {
            continue;
        }
        match load(&entry.path, &state.db, &state.clock) {
            Ok(fresh) => {
                tracing::info!(file = %entry.path.display(), "reloaded");
                *entry = fresh;
            }
            Err(error) => {
                tracing::error!(file = %entry.path.display(), %error, "not applied; the previous version keeps running");
                entry.stamps = now;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, ManualClock};
    use crate::runtime::Silent;
    use std::path::PathBuf;

    fn at(text: &str) -> DateTime<Utc> {
        crate::store::parse_timestamp(text).unwrap()
    }

    /// A fresh database and an engine over `text` using it.
    fn setup(name: &str, text: &str) -> (Store, Arc<Engine>) {
        setup_on(name, text, Clock::system())
    }

    fn setup_on(name: &str, text: &str, clock: Clock) -> (Store, Arc<Engine>) {
        let dir = std::env::temp_dir().join(format!("wfc-dispatch-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let db: PathBuf = dir.join("wfc.db");
        let (loaded, checked) = crate::check_text("flow.wf", text);
        assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
        let engine = Engine::new(
            checked.program.expect("the text checks"),
            loaded.sources,
            std::path::Path::new("flow.wf"),
            Store::open(&db).unwrap(),
            Arc::new(Silent),
            clock,
        );
        (Store::open(&db).unwrap(), Arc::new(engine))
    }

    fn fired(store: &Store, occurrence: &str) -> usize {
        store.fires(occurrence).unwrap().len()
    }

    #[tokio::test]
    async fn cron_fires_on_time_slots_once_and_catches_up_once_after_downtime() {
        let (store, engine) = setup(
            "cron",
            r#"
agent noop { compute { ok: true } }
trigger every_minute { cron "* * * * *" }
trigger lazy { cron "* * * * *" missed skip }
workflow tick { on every_minute chain noop }
workflow lazy_tick { on lazy chain noop }
"#,
        );
        let engines = [engine];
        // The first start owes nothing from before it.
        cron(&store, &engines, at("2026-11-25T12:00:30Z")).unwrap();
        assert_eq!(fired(&store, "slot:2026-11-25T12:00:00.000Z"), 0);
        // 12:01:00 is due two seconds later: both triggers fire it, once.
        for _ in 0..3 {
            cron(&store, &engines, at("2026-11-25T12:01:02Z")).unwrap();
        }
        assert_eq!(fired(&store, "slot:2026-11-25T12:01:00.000Z"), 2);
        // Down until 12:05:30: four slots missed; `run_once` fires the latest once,
        // `skip` fires none.
        for _ in 0..2 {
            cron(&store, &engines, at("2026-11-25T12:05:30Z")).unwrap();
        }
        let caught_up = store.fires("slot:2026-11-25T12:05:00.000Z").unwrap();
        assert_eq!(caught_up.len(), 1);
        assert_eq!(caught_up[0].0, "tick");
        for minute in 2..5 {
            assert_eq!(
                fired(&store, &format!("slot:2026-11-25T12:0{minute}:00.000Z")),
                0
            );
        }
    }

    #[tokio::test]
    async fn metric_triggers_fire_on_each_crossing_and_again_in_a_new_period() {
        let (store, engine) = setup(
            "metric",
            r#"
agent noop { compute { ok: true } }
trigger daily_target { when metric sum(sales) per day >= 10 }
workflow celebrate { on daily_target chain noop }
workflow sell { steps { x = noop({}) } record sales = 1 }
"#,
        );
        let engines = [engine];
        let day = |d: u32, time: &str| at(&format!("2026-11-{d:02}T{time}Z"));
        let mut cursor = None;
        let mut step = |now| {
            cursor = Some(metrics(&store, &engines, now, cursor).unwrap());
        };
        step(day(24, "08:00:00"));
        store
            .record_metric("sales", 6.0, day(24, "09:00:00"))
            .unwrap();
        step(day(24, "09:00:01"));
        assert_eq!(fired(&store, "metric:2026-11-24:1"), 0, "6 is below 10");
        store
            .record_metric("sales", 5.0, day(24, "10:00:00"))
            .unwrap();
        step(day(24, "10:00:01"));
        assert_eq!(fired(&store, "metric:2026-11-24:1"), 1, "11 crosses 10");
        store
            .record_metric("sales", 3.0, day(24, "11:00:00"))
            .unwrap();
        step(day(24, "11:00:01"));
        assert_eq!(
            fired(&store, "metric:2026-11-24:2"),
            0,
            "staying above does not refire"
        );
        // Falling below (a refund) and crossing again fires again.
        store
            .record_metric("sales", -9.0, day(24, "12:00:00"))
            .unwrap();
        step(day(24, "12:00:01"));
        store
            .record_metric("sales", 9.0, day(24, "13:00:00"))
            .unwrap();
        step(day(24, "13:00:01"));
        assert_eq!(fired(&store, "metric:2026-11-24:2"), 1);
        // A new day is a new period: its own first crossing fires.
        store
            .record_metric("sales", 12.0, day(25, "09:00:00"))
            .unwrap();
        step(day(25, "09:00:01"));
        assert_eq!(fired(&store, "metric:2026-11-25:1"), 1);
        // A restart (a fresh cursor) re-evaluates but does not refire.
        let restarted = metrics(&store, &engines, day(25, "09:30:00"), None).unwrap();
        assert!(restarted > 0);
        assert_eq!(fired(&store, "metric:2026-11-25:2"), 0);
    }

    #[tokio::test]
    async fn crossings_between_ticks_each_fire() {
        let (store, engine) = setup(
            "burst",
            r#"
agent noop { compute { ok: true } }
trigger high { when metric latest(score) >= 4167 }
workflow alert { on high chain noop }
workflow rate { steps { x = noop({}) } record score = 1 }
"#,
        );
        let engines = [engine];
        let cursor = metrics(&store, &engines, at("2026-11-25T08:00:00Z"), None).unwrap();
        for (i, value) in [4000.0, 4200.0, 4300.0, 4100.0, 4500.0]
            .into_iter()
            .enumerate()
        {
            let when = at(&format!("2026-11-25T09:00:0{i}Z"));
            store.record_metric("score", value, when).unwrap();
        }
        metrics(&store, &engines, at("2026-11-25T09:00:10Z"), Some(cursor)).unwrap();
        assert_eq!(fired(&store, "metric::1"), 1, "4200 crosses");
        assert_eq!(
            fired(&store, "metric::2"),
            1,
            "4500 crosses again after 4100"
        );
        assert_eq!(fired(&store, "metric::3"), 0);
    }

    /// A start the store refused (a database restart) leaves its event owed,
    /// to fire once the store takes writes again; it was marked dispatched and
    /// lost before.
    #[tokio::test]
    async fn an_event_whose_start_the_store_refused_fires_again() {
        let (store, engine) = setup(
            "refused",
            r#"
agent noop { compute { ok: true } }
trigger tick { on event "tick" }
workflow on_tick { on tick chain noop }
"#,
        );
        let db = std::env::temp_dir()
            .join(format!("wfc-dispatch-refused-{}", std::process::id()))
            .join("wfc.db");
        let raw = rusqlite::Connection::open(&db).unwrap();
        raw.execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON executions
             BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END;",
        )
        .unwrap();
        let event = store
            .record_event("tick", &json!({}), None)
            .unwrap()
            .unwrap();
        let engines = [engine];
        assert!(
            events(&store, &engines).is_err(),
            "the refusal is the tick's"
        );
        let owed: Option<String> = raw
            .query_row(
                "SELECT dispatched_at FROM events WHERE id = ?1",
                [event],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(owed, None, "the event is still owed");
        // The store takes writes again and the claim ran out: it fires once.
        raw.execute_batch("DROP TRIGGER refuse; UPDATE events SET claimed_until = NULL;")
            .unwrap();
        events(&store, &engines).unwrap();
        assert_eq!(fired(&store, &format!("event:{event}")), 1);
    }

    /// Polls (in real time, briefly) until `done` holds.
    async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
        for _ in 0..1000 {
            if done() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        panic!("{what} did not happen within 5 s");
    }

    #[tokio::test]
    async fn the_dispatcher_fires_cron_slots_on_its_clock_across_a_dst_change() {
        let text = r#"
agent noop { compute { ok: true } }
trigger nightly { cron "30 2 * * *" timezone "Europe/Paris" }
workflow w { on nightly chain noop }
"#;
        let manual = ManualClock::new(at("2026-03-27T12:00:00Z"));
        let (store, engine) = setup_on("dst", text, manual.clock());
        let db = crate::store::Location::File(
            std::env::temp_dir()
                .join(format!("wfc-dispatch-dst-{}", std::process::id()))
                .join("wfc.db"),
        );
        let state = Arc::new(State {
            served: std::sync::RwLock::new(vec![super::super::Served {
                path: PathBuf::from("flow.wf"),
                engine,
                stamps: Vec::new(),
            }]),
            db: db.clone(),
            token: None,
            edit: false,
            metrics_public: false,
            ingest: super::super::ingest::Ingest::start(db),
            clock: manual.clock(),
            looks: Default::default(),
            role: super::super::Role::Both,
            wake: Default::default(),
            sessions: Default::default(),
            reachability: Default::default(),
        });
        let (stop, stopped) = watch::channel(false);
        let dispatcher = tokio::spawn(run(state, false, stopped));
        // The first tick, one tick later on the manual clock, notes where the
        // trigger starts; nothing real has to pass.
        eventually("the dispatcher's sleep", || manual.sleepers() == 1).await;
        manual.advance(TICK);
        eventually("the first tick", || {
            store.cron_last_slot("nightly").unwrap().is_some()
        })
        .await;
        // 02:30 in Paris: 01:30 UTC in winter; inside the gap on the night of the
        // change it moves to 03:00 local (01:00 UTC); 00:30 UTC in summer.
        for slot in [
            "2026-03-28T01:30:00.000Z",
            "2026-03-29T01:00:00.000Z",
            "2026-03-30T00:30:00.000Z",
        ] {
            eventually("the dispatcher's sleep", || manual.sleepers() == 1).await;
            manual.set(at(slot) + chrono::Duration::seconds(1));
            let occurrence = format!("slot:{slot}");
            eventually(&occurrence, || fired(&store, &occurrence) == 1).await;
            let (_, execution) = store.fires(&occurrence).unwrap().remove(0);
            let started = store.execution(&execution).unwrap().started_at;
            assert_eq!(
                started,
                store::timestamp(manual.now()),
                "on the manual clock"
            );
        }
        // Neither of the instants a DST-blind schedule would pick fired.
        for wrong in ["2026-03-29T00:30:00.000Z", "2026-03-29T01:30:00.000Z"] {
            assert_eq!(fired(&store, &format!("slot:{wrong}")), 0, "{wrong}");
        }
        stop.send(true).unwrap();
        dispatcher.await.unwrap();
    }
}
