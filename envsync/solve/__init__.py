"""Solving environments' conda specs and pip sections, as the image build would."""
