"""The networks: the cells (rnn, lstm, gru; a new cell type goes in cells.py), the device choice and bf16
check, and the memory estimate that refuses a model before it is built."""
