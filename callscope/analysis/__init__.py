"""callscope.analysis"""
