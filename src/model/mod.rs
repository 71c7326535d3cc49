//! The model: agents, the rules in force on a day and what they do to a person, beliefs,
//! the choice of where to go, and the engine that steps every agent day by day into [`engine::Results`].

pub mod agent;
pub mod beliefs;
pub mod choice;
pub mod engine;
pub mod rules;
