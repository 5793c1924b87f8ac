"""Training: the engine (a run from start to end, emitting core.events), the loop (one step, its state
dict), evaluation, the learning-rate schedule, data parallelism (torchrun), resuming, and experiments
(several runs interleaved). A change to how a step or a run works goes here."""
