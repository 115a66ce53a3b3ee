"""The approved-answer library and the public FAQ read from it.
"""
