"""callscope.ivr"""
