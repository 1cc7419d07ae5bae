"""`replay verify`: run the recording as it is and its replay script with its defaults (verify.py), and measure
how their outputs differ inside ParaView's own Python (compare_pv.py, copied to pvpython, never imported here)."""
