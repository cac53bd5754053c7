"""The desktop softphone (PySide6 + qasync): the only sigphone package that imports Qt.

``bridge.Bridge`` owns the SDK session and is the one place views talk to; everything else
here is a view, a small store, or the application shell (``app.py``). See docs/ui.md.
"""
