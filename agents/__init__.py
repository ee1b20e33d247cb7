"""Learning agents for ORANSlicing-v0 (DQN, SS-VAE, forecasters). Needs the `agents` extra."""
