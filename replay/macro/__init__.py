"""The ParaView GUI macro "Save Replay Script" (paraview_macro.py: stdlib and paraview only). `replay macro
install` copies it as text into ParaView's macros folder; replay never imports it."""
