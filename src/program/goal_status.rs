//! The statuses a goal can be in: one vocabulary for the `.wf` files that name
//! them (`alert … when goal revenue is at_risk`), the JSON and the screens, read
//! by the checker and by the goal evaluation that decides them.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoalStatus {
    /// The KPI's condition holds now.
    Achieved,
    /// Not yet, but the trend reaches the target by the deadline.
    OnTrack,
    /// The trend misses the target at the deadline.
    AtRisk,
    /// The deadline has passed without the target.
    Overdue,
    /// Not yet, with no deadline (or too few samples to project).
    InProgress,
    /// No sample of its metric yet.
    NoData,
}

impl GoalStatus {
    pub const ALL: [GoalStatus; 6] = [
        GoalStatus::Achieved,
        GoalStatus::OnTrack,
        GoalStatus::AtRisk,
        GoalStatus::Overdue,
        GoalStatus::InProgress,
        GoalStatus::NoData,
    ];

    /// The name a `.wf` file and the JSON use: `at_risk`.
    pub fn name(self) -> &'static str {
        match self {
            GoalStatus::Achieved => "achieved",
            GoalStatus::OnTrack => "on_track",
            GoalStatus::AtRisk => "at_risk",
            GoalStatus::Overdue => "overdue",
            GoalStatus::InProgress => "in_progress",
            GoalStatus::NoData => "no_data",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    pub fn label(self) -> &'static str {
        match self {
            GoalStatus::Achieved => "achieved",
            GoalStatus::OnTrack => "on track",
            GoalStatus::AtRisk => "at risk",
            GoalStatus::Overdue => "overdue",
            GoalStatus::InProgress => "in progress",
            GoalStatus::NoData => "no data",
        }
    }
}
