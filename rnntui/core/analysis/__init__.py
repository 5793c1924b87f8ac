"""Looking inside a model: the probes behind the gradient-flow and hidden-state panels, the memory
horizon, text features and unit ranking, the inspector's pass over a text, and runs compared."""
