"""Widgets and drawing helpers shared by the studio and the step-through."""
