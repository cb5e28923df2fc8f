"""callscope.api"""
