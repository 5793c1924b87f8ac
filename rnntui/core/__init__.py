"""The engine: corpus, models, training, probes, sampling, checkpoints. torch, numpy and stdlib only."""
