"""callscope.jobs"""
