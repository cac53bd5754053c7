"""backends/embedded"""
