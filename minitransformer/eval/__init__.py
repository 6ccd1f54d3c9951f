"""Word-vector evaluation: analogies (questions-words), word similarity (WordSim-353), neighbours."""
