"""To and from other tools: a spec's PyTorch program (torch-free), built by convcalc.pytorch, written by export."""
