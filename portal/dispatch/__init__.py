"""Outbound messages to affected people: the channels (SMS, email, outbox), the wording of short
messages, code reminders and reply notices; campaigns and chunk jobs build on them.
"""
